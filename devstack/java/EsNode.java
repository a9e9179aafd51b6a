import java.nio.file.Path;
import java.util.Map;
import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.Node;

/**
 * Starts one Elasticsearch node from the server jars published on Maven Central (Elastic publishes
 * no distribution there). It skips the distribution's bootstrap checks, so it suits loopback
 * development only. Usage: java -cp <server jars> EsNode <home>
 */
public final class EsNode {
  public static void main(String[] args) throws Exception {
    Path home = Path.of(args[0]).toAbsolutePath();
    Settings settings = Settings.builder().put("path.home", home.toString()).build();
    Environment env = InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), home.resolve("config"), () -> "pintrace-devstack");
    // Without these two the node fails in LoggerFactory.provider() with a NullPointerException.
    LogConfigurator.configureESLogging();
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
