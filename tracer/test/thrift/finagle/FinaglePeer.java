// A real Finagle (22.7, Java API) peer for the TTwitter interop test: speaks EchoService.echo
// (tracer/test/thrift/echo.thrift) over Finagle's Thrift stack (framed, binary, TTwitter upgrade)
// with hand-written libthrift encoding, so no Scrooge code generation is needed.
//   java -cp <classpath> FinaglePeer server <port>        echo answers "<msg>|<Finagle's Trace.id()>"
//   java -cp <classpath> FinaglePeer client <port> <msg>  prints the reply, one line
import com.twitter.finagle.Service;
import com.twitter.finagle.Thrift;
import com.twitter.finagle.thrift.ThriftClientRequest;
import com.twitter.finagle.tracing.Trace;
import com.twitter.finagle.tracing.TraceId;
import com.twitter.util.Await;
import com.twitter.util.Duration;
import com.twitter.util.Future;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.apache.thrift.protocol.TBinaryProtocol;
import org.apache.thrift.protocol.TField;
import org.apache.thrift.protocol.TMessage;
import org.apache.thrift.protocol.TMessageType;
import org.apache.thrift.protocol.TProtocolUtil;
import org.apache.thrift.protocol.TStruct;
import org.apache.thrift.protocol.TType;
import org.apache.thrift.transport.TMemoryBuffer;
import org.apache.thrift.transport.TMemoryInputTransport;

public final class FinaglePeer {
  /** A message with one string field: args (id 1) or result (id 0). */
  static byte[] message(String name, byte type, int seqid, short fieldId, String value) throws Exception {
    TMemoryBuffer buffer = new TMemoryBuffer(128);
    TBinaryProtocol out = new TBinaryProtocol(buffer);
    out.writeMessageBegin(new TMessage(name, type, seqid));
    out.writeStructBegin(new TStruct("s"));
    out.writeFieldBegin(new TField("f", TType.STRING, fieldId));
    out.writeString(value);
    out.writeFieldEnd();
    out.writeFieldStop();
    out.writeStructEnd();
    out.writeMessageEnd();
    byte[] bytes = new byte[buffer.length()];
    System.arraycopy(buffer.getArray(), 0, bytes, 0, buffer.length());
    return bytes;
  }

  /** Reads a message and returns its name and first string field. */
  static String[] read(byte[] bytes) throws Exception {
    TBinaryProtocol in = new TBinaryProtocol(new TMemoryInputTransport(bytes));
    TMessage begin = in.readMessageBegin();
    String value = null;
    in.readStructBegin();
    while (true) {
      TField field = in.readFieldBegin();
      if (field.type == TType.STOP) break;
      if (field.type == TType.STRING && value == null) value = in.readString();
      else TProtocolUtil.skip(in, field.type);
      in.readFieldEnd();
    }
    return new String[] { begin.name, value, Integer.toString(begin.seqid), Byte.toString(begin.type) };
  }

  static String describe(TraceId id) {
    String parent = id._parentId().isDefined() ? id.parentId().toString() : "-";
    String sampled = id._sampled().isDefined() ? id._sampled().get().toString() : "-";
    String high = id.traceIdHigh().isDefined() ? id.traceIdHigh().get().toString() : "";
    return high + id.traceId().toString() + ":" + id.spanId().toString() + ":" + parent + ":" + sampled;
  }

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[1]);
    if (args[0].equals("server")) {
      Service<byte[], byte[]> echo = new Service<byte[], byte[]>() {
        @Override
        public Future<byte[]> apply(byte[] request) {
          try {
            String[] call = read(request);
            String reply = call[1] + "|" + describe(Trace.id());
            return Future.value(message(call[0], TMessageType.REPLY, Integer.parseInt(call[2]), (short) 0, reply));
          } catch (Exception e) {
            return Future.exception(e);
          }
        }
      };
      Thrift.server().serve(new InetSocketAddress("127.0.0.1", port), echo);
      System.out.println("listening " + port);
      System.out.flush();
      Thread.sleep(Long.MAX_VALUE);
    } else {
      Service<ThriftClientRequest, byte[]> client = Thrift.client().newService("127.0.0.1:" + port);
      byte[] call = message("echo", TMessageType.CALL, 1, (short) 1, args[2]);
      byte[] reply = Await.result(client.apply(new ThriftClientRequest(call, false)), Duration.apply(20, TimeUnit.SECONDS));
      System.out.println("reply " + read(reply)[1]);
      System.out.flush();
      System.exit(0);
    }
  }
}
