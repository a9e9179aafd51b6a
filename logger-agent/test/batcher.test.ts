import { describe, expect, it } from 'vitest';
import { buildMessages, buildMessagesFromBytes } from '../src/batcher.js';
import { traceKey } from '../src/trace-key.js';

const span = (traceId: string, id: string) => JSON.stringify({ traceId, id, name: 'x' });

describe('trace id of a line (from @pintrace/model)', () => {
  it('finds the top-level trace id and ignores one inside a tag', () => {
    expect(buildMessages([JSON.stringify({ tags: { traceId: 'bbbbbbbbbbbbbbbb' }, traceId: 'aaaaaaaaaaaaaaa1', id: '1' })]).messages[0].key).toBe(
      'aaaaaaaaaaaaaaa1',
    );
    expect(buildMessages([JSON.stringify({ id: '1', tags: { traceId: 'bbbbbbbbbbbbbbbb' } })]).skipped).toEqual({ no_trace_id: 1 });
    expect(buildMessages(['{"traceId":"not-hex","id":"1"}']).skipped).toEqual({ no_trace_id: 1 });
  });
});

describe('traceKey', () => {
  it('keys 64- and 128-bit ids of one trace alike, zero-padding short ones', () => {
    expect(traceKey('0af7651916cd43dd8448eb211c80319c')).toBe('8448eb211c80319c');
    expect(traceKey('8448eb211c80319c')).toBe('8448eb211c80319c');
    expect(traceKey('abc')).toBe('0000000000000abc');
  });
});

describe('buildMessages', () => {
  it('makes one JSON list per trace, keyed by trace id, spans in file order', () => {
    const out = buildMessages([span('aaaaaaaaaaaaaaa1', '1'), span('aaaaaaaaaaaaaaa2', '2'), span('aaaaaaaaaaaaaaa1', '3')]);
    expect(out.spans).toBe(3);
    expect(out.messages.map((m) => m.key)).toEqual(['aaaaaaaaaaaaaaa1', 'aaaaaaaaaaaaaaa2']);
    const first = out.messages[0].value!.toString();
    expect(first[0]).toBe('[');
    expect(JSON.parse(first).map((s: { id: string }) => s.id)).toEqual(['1', '3']);
  });

  it('counts and skips lines that are not spans, and ignores empty lines', () => {
    const out = buildMessages([
      '',
      'garbage',
      '[1,2]',
      '{"id":"1"}',
      '{"traceId":"aaaaaaaaaaaaaaa1","id":',
      '{"traceId":"aaaaaaaaaaaaaaa1",}',
      span('aaaaaaaaaaaaaaa1', '9'),
    ]);
    expect(out.spans).toBe(1);
    expect(out.skipped).toEqual({ not_json_object: 3, no_trace_id: 1, invalid_json: 1 });
    expect(out.samples.length).toBe(3);
    expect(JSON.parse(out.messages[0].value!.toString())).toHaveLength(1);
  });

  it('rejects lines longer than maxLineBytes as oversized, keeping their first KiB', () => {
    const long = span('aaaaaaaaaaaaaaa1', 'x'.repeat(5000));
    const out = buildMessages([long, span('aaaaaaaaaaaaaaa1', '2')], { maxLineBytes: 2048, collectRejects: true });
    expect(out.spans).toBe(1);
    expect(out.skipped).toEqual({ oversized_line: 1 });
    expect(out.oversizedBytes).toBe(Buffer.byteLength(long));
    expect(out.rejects[0]?.line).toBe(long.slice(0, 1024));
  });

  it('can leave JSON checking off (cheaper, relies on the writer)', () => {
    const out = buildMessages(['{"traceId":"aaaaaaaaaaaaaaa1",}'], { checkJson: false });
    expect(out.spans).toBe(1);
  });
});

describe('buildMessages from the read bytes', () => {
  it('copies the lines from the read bytes and gives the same values as from the strings', () => {
    const text =
      [
        span('aaaaaaaaaaaaaaa1', '1'),
        `  ${span('aaaaaaaaaaaaaaa2', '2')}\t`, // JSON whitespace around a line is trimmed
        JSON.stringify({ traceId: 'aaaaaaaaaaaaaaa1', id: '3', name: 'ünïcødé ✓ 😀' }),
        'not json',
        '',
        `${span('aaaaaaaaaaaaaaa2', '4')}\r`,
      ].join('\n') + '\n';
    const bytes = Buffer.from(text);
    const lines: string[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    let cursor = 0;
    for (let nl = bytes.indexOf(10); nl >= 0; nl = bytes.indexOf(10, cursor)) {
      const end = nl > cursor && bytes[nl - 1] === 0x0d ? nl - 1 : nl;
      lines.push(bytes.toString('utf8', cursor, end));
      starts.push(cursor);
      ends.push(end);
      cursor = nl + 1;
    }
    const fromBytes = buildMessagesFromBytes({ bytes, starts, ends, count: lines.length }, { collectRejects: true });
    const fromStrings = buildMessages(lines);
    expect(fromBytes.messages.map((m) => [m.key, m.value!.toString()])).toEqual(fromStrings.messages.map((m) => [m.key, m.value!.toString()]));
    expect(fromBytes.spans).toBe(4);
    expect(fromBytes.rejects).toEqual([{ reason: 'not_json_object', line: 'not json' }]);
    expect(JSON.parse(fromBytes.messages[0].value!.toString())[1].name).toBe('ünïcødé ✓ 😀');
    bytes.fill(0); // the values are copies, not views of the read buffer
    expect(JSON.parse(fromBytes.messages[1].value!.toString()).map((s: { id: string }) => s.id)).toEqual(['2', '4']);
  });
});
