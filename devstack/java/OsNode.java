import java.nio.file.Path;
import java.util.Map;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;

/**
 * Starts one OpenSearch node from the server jars published on Maven Central, the way EsNode does
 * for Elasticsearch: the distribution's bootstrap (and its refusal to run as root, its security
 * manager or agent) is skipped, so it suits loopback development only. The same source compiles
 * against OpenSearch 2.x and 3.x. Usage: java -cp <server jars> OsNode <home>
 */
public final class OsNode {
  public static void main(String[] args) throws Exception {
    Path home = Path.of(args[0]).toAbsolutePath();
    Settings settings = Settings.builder().put("path.home", home.toString()).build();
    Environment env = InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), home.resolve("config"), () -> "pintrace-devstack");
    // Without a configured logging backend the node fails early looking up its loggers.
    LogConfigurator.registerErrorListener();
    LogConfigurator.configureWithoutConfig(env.settings());
    Node node = new Node(env);
    node.start();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        node.close();
      } catch (Exception e) {
        e.printStackTrace();
      }
    }));
    Thread.currentThread().join();
  }
}
