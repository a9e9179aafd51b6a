"""Python peer of the intake tests: a real OpenTelemetry SDK exporting OTLP/HTTP protobuf to the agent.

  peer.py serve --port P --endpoint URL --service NAME [--next URL]
      HTTP server: GET /call reads W3C traceparent (the SDK's default propagator), records a SERVER
      span and, with --next, a CLIENT span around a GET to --next carrying traceparent. Answers the
      trace id. POST /flush force-flushes the exporter.
  peer.py emit --endpoint URL --service NAME --traces N --spans-per-trace K
      Records N traces of K spans, flushes, prints one trace id per line.
  peer.py load --endpoint URL --service NAME --spans N --acked FILE
      Records N single-span traces as fast as the SDK takes them (a queue that holds them all, so
      the SDK drops none) and writes "<traceId> <spanId>" to FILE for every span whose export the
      server acknowledged; prints "acked A failed F" at the end.
"""
import argparse
import sys
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry import propagate, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind, Status, StatusCode


def provider_for(endpoint, service):
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint), schedule_delay_millis=200))
    return provider


def serve(args):
    provider = provider_for(args.endpoint, args.service)
    tracer = provider.get_tracer("pintrace-test-peer", "1.0")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            if self.path == "/flush":
                ok = provider.force_flush(30_000)
                self.send_response(200 if ok else 500)
                self.end_headers()
                return
            self.send_response(404)
            self.end_headers()

        def do_GET(self):
            if not self.path.startswith("/call"):
                self.send_response(404)
                self.end_headers()
                return
            parent = propagate.extract(dict(self.headers.items()))
            with tracer.start_as_current_span("GET /call", context=parent, kind=SpanKind.SERVER,
                                              attributes={"http.method": "GET", "net.host.port": args.port}) as server:
                body = ""
                if args.next:
                    with tracer.start_as_current_span("call java", kind=SpanKind.CLIENT,
                                                      attributes={"peer.service": "java-peer", "net.peer.ip": "127.0.0.1"}) as client:
                        headers = {}
                        propagate.inject(headers)
                        with urllib.request.urlopen(urllib.request.Request(args.next, headers=headers), timeout=30) as r:
                            body = r.read().decode()
                        client.set_status(Status(StatusCode.OK))
                server.add_event("answered", {"bytes": len(body)})
                trace_id = format(server.get_span_context().trace_id, "032x")
            out = trace_id.encode()
            self.send_response(200)
            self.send_header("content-length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

    httpd = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"listening {httpd.server_address[1]}", flush=True)
    try:
        httpd.serve_forever()
    finally:
        provider.shutdown()


def emit(args):
    provider = provider_for(args.endpoint, args.service)
    tracer = provider.get_tracer("pintrace-test-emit", "1.0")
    for _ in range(args.traces):
        with tracer.start_as_current_span("root", kind=SpanKind.SERVER) as root:
            for i in range(args.spans_per_trace - 1):
                with tracer.start_as_current_span(f"child-{i}", kind=SpanKind.INTERNAL, attributes={"i": i}):
                    pass
            print(format(root.get_span_context().trace_id, "032x"), flush=True)
    ok = provider.force_flush(120_000)
    provider.shutdown()
    sys.exit(0 if ok else 1)


class RecordingExporter(SpanExporter):
    """Passes spans to the OTLP exporter and records which ones the server acknowledged."""

    def __init__(self, inner, out):
        self.inner = inner
        self.out = out
        self.acked = 0
        self.failed = 0

    def export(self, spans):
        result = self.inner.export(spans)
        if result == SpanExportResult.SUCCESS:
            self.acked += len(spans)
            self.out.write("".join(f"{s.context.trace_id:032x} {s.context.span_id:016x}\n" for s in spans))
            self.out.flush()
        else:
            self.failed += len(spans)
        return result

    def shutdown(self):
        self.inner.shutdown()

    def force_flush(self, timeout_millis=30000):
        return True


def load(args):
    with open(args.acked, "w") as out:
        exporter = RecordingExporter(OTLPSpanExporter(endpoint=args.endpoint, timeout=30), out)
        provider = TracerProvider(resource=Resource.create({"service.name": args.service}))
        provider.add_span_processor(BatchSpanProcessor(exporter, max_queue_size=args.spans + 1,
                                                       max_export_batch_size=512, schedule_delay_millis=50))
        tracer = provider.get_tracer("pintrace-test-load", "1.0")
        for i in range(args.spans):
            with tracer.start_as_current_span("load", kind=SpanKind.SERVER, attributes={"n": i}):
                pass
        provider.force_flush(600_000)
        provider.shutdown()
        print(f"acked {exporter.acked} failed {exporter.failed}", flush=True)


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--endpoint", required=True)
    s.add_argument("--service", required=True)
    s.add_argument("--next")
    e = sub.add_parser("emit")
    e.add_argument("--endpoint", required=True)
    e.add_argument("--service", required=True)
    e.add_argument("--traces", type=int, default=1)
    e.add_argument("--spans-per-trace", type=int, default=3)
    ld = sub.add_parser("load")
    ld.add_argument("--endpoint", required=True)
    ld.add_argument("--service", required=True)
    ld.add_argument("--spans", type=int, required=True)
    ld.add_argument("--acked", required=True)
    args = parser.parse_args()
    {"serve": serve, "emit": emit, "load": load}[args.cmd](args)


if __name__ == "__main__":
    main()
