"""The demo's Python service: recommendations for the frontend, traced with the OpenTelemetry SDK and
exported over OTLP/HTTP to the local agent's intake, so the demo's dependency graph spans two
languages. GET /recommend reads W3C traceparent (the SDK's default propagator) and answers JSON.

  recommender.py --endpoint http://127.0.0.1:4318/v1/traces [--port 0] [--service recommender]
"""
import argparse
import json
import random
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry import propagate
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind

ITEMS = ["pins", "boards", "ideas", "recipes", "travel", "diy", "style", "home"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--service", default="recommender")
    args = parser.parse_args()
    provider = TracerProvider(resource=Resource.create({"service.name": args.service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=args.endpoint), schedule_delay_millis=500))
    tracer = provider.get_tracer("pintrace-demo-recommender", "1.0")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            if not self.path.startswith("/recommend"):
                self.send_response(404)
                self.end_headers()
                return
            parent = propagate.extract(dict(self.headers.items()))
            with tracer.start_as_current_span("GET /recommend", context=parent, kind=SpanKind.SERVER,
                                              attributes={"http.method": "GET", "http.route": "/recommend"}):
                with tracer.start_as_current_span("rank", attributes={"candidates": len(ITEMS)}):
                    time.sleep(random.uniform(0.001, 0.005))
                    picks = random.sample(ITEMS, 3)
            out = json.dumps({"items": picks}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

    httpd = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"listening {httpd.server_address[1]}", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        provider.shutdown()


if __name__ == "__main__":
    main()
