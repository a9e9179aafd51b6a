import static java.nio.charset.StandardCharsets.UTF_8;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import zipkin2.reporter.brave.AsyncZipkinSpanHandler;
import zipkin2.reporter.urlconnection.URLConnectionSender;

/**
 * Java peer of the intake tests. GET /work reads W3C traceparent with the OpenTelemetry API and
 * records a SERVER span exported by the OpenTelemetry Java SDK over OTLP/gRPC; inside it, Brave
 * records a CLIENT child span ("query" to "db") reported as Zipkin JSON v2 over HTTP. Answers the
 * trace id. POST /flush flushes both. Args: port otlpGrpcEndpoint zipkinSpansUrl serviceName.
 */
public final class JavaPeer {
  private static final TextMapGetter<Headers> HEADERS = new TextMapGetter<>() {
    @Override public Iterable<String> keys(Headers carrier) { return carrier.keySet(); }
    @Override public String get(Headers carrier, String key) { return carrier == null ? null : carrier.getFirst(key); }
  };

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    String service = args[3];
    OtlpGrpcSpanExporter exporter = OtlpGrpcSpanExporter.builder().setEndpoint(args[1]).build();
    SdkTracerProvider provider = SdkTracerProvider.builder()
        .setResource(Resource.getDefault().merge(Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), service))))
        .addSpanProcessor(BatchSpanProcessor.builder(exporter).setScheduleDelay(Duration.ofMillis(200)).build())
        .build();
    Tracer tracer = provider.get("pintrace-java-peer", "1.0");
    AsyncZipkinSpanHandler zipkin = AsyncZipkinSpanHandler.create(URLConnectionSender.create(args[2]));
    brave.Tracing braveTracing = brave.Tracing.newBuilder().localServiceName(service + "-brave").addSpanHandler(zipkin).build();

    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
    server.createContext("/work", exchange -> {
      Context parent = W3CTraceContextPropagator.getInstance().extract(Context.root(), exchange.getRequestHeaders(), HEADERS);
      Span span = tracer.spanBuilder("GET /work").setParent(parent).setSpanKind(SpanKind.SERVER).setAttribute("http.method", "GET").startSpan();
      String traceId;
      try (Scope ignored = span.makeCurrent()) {
        SpanContext sc = span.getSpanContext();
        traceId = sc.getTraceId();
        brave.propagation.TraceContext braveParent = brave.propagation.TraceContext.newBuilder()
            .traceIdHigh(Long.parseUnsignedLong(traceId.substring(0, 16), 16))
            .traceId(Long.parseUnsignedLong(traceId.substring(16), 16))
            .spanId(Long.parseUnsignedLong(sc.getSpanId(), 16))
            .sampled(true)
            .build();
        brave.Span query = braveTracing.tracer().newChild(braveParent).name("query").kind(brave.Span.Kind.CLIENT).remoteServiceName("db").start();
        query.tag("db.statement", "select 1");
        query.finish();
      } finally {
        span.end();
      }
      byte[] out = traceId.getBytes(UTF_8);
      exchange.sendResponseHeaders(200, out.length);
      exchange.getResponseBody().write(out);
      exchange.close();
    });
    server.createContext("/flush", exchange -> {
      boolean ok = provider.forceFlush().join(30, TimeUnit.SECONDS).isSuccess();
      zipkin.flush();
      exchange.sendResponseHeaders(ok ? 200 : 500, -1);
      exchange.close();
    });
    server.setExecutor(Executors.newFixedThreadPool(4));
    server.start();
    System.out.println("listening " + server.getAddress().getPort());
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      provider.shutdown().join(10, TimeUnit.SECONDS);
      braveTracing.close();
      zipkin.close();
    }));
  }
}
