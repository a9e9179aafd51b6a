// The demo backend's Thrift interface: the frontend calls it over Finagle TTwitter.
// Generated code is committed in demo/gen/; regenerate after a change with
//   thrift --gen js:node,es6 -out demo/gen demo/thrift/demo.thrift

exception DemoError {
  1: string message
}

struct WorkResult {
  1: i32 n,
  2: i32 result,
  3: bool cached
}

service DemoService {
  /** fibonacci(n), cached in memcached. mode "fail" throws DemoError; "slow" waits first. */
  WorkResult work(1: i32 n, 2: string mode) throws (1: DemoError err)
}
