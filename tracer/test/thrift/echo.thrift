// Test service for the TTwitter client and server wrappers.
// Regenerate: thrift --gen js:node,es6 -out tracer/test/thrift/gen tracer/test/thrift/echo.thrift
exception EchoError {
  1: string message,
  2: i32 code
}

service EchoService {
  string echo(1: string msg) throws (1: EchoError err),
  oneway void fire(1: string msg)
}
