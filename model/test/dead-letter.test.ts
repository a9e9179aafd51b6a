import { describe, expect, it } from 'vitest';
import { deadLetterHeaders, readDeadLetterHeaders, type DeadLetterInfo } from '../src/dead-letter.js';

const fromAgent: DeadLetterInfo = {
  reason: 'not_json_object',
  rejectedBy: 'logger-agent',
  host: 'web-1',
  bytes: 12,
  stream: 'frontend.jsonl',
  file: 'frontend.jsonl.1',
  batchOffset: 4096,
};
const fromCollector: DeadLetterInfo = {
  reason: 'undecodable',
  rejectedBy: 'collector',
  host: 'collector-0',
  bytes: 3,
  topic: 'spans',
  partition: 2,
  offset: '9007199254740993',
};

describe('dead-letter headers', () => {
  it('spell one schema for both writers', () => {
    expect(deadLetterHeaders(fromAgent)).toEqual({
      reason: 'not_json_object',
      rejected_by: 'logger-agent',
      host: 'web-1',
      bytes: '12',
      stream: 'frontend.jsonl',
      file: 'frontend.jsonl.1',
      batch_offset: '4096',
    });
    expect(deadLetterHeaders(fromCollector)).toEqual({
      reason: 'undecodable',
      rejected_by: 'collector',
      host: 'collector-0',
      bytes: '3',
      topic: 'spans',
      partition: '2',
      offset: '9007199254740993',
    });
  });

  it('read back what was built, offsets beyond 2^53 included', () => {
    expect(readDeadLetterHeaders(deadLetterHeaders(fromAgent))).toEqual(fromAgent);
    expect(readDeadLetterHeaders(deadLetterHeaders(fromCollector))).toEqual(fromCollector);
  });

  it('read nothing from headers that do not follow the schema', () => {
    const agent = deadLetterHeaders(fromAgent);
    expect(readDeadLetterHeaders({ ...agent, reason: undefined })).toBeUndefined();
    expect(readDeadLetterHeaders({ ...agent, bytes: 'twelve' })).toBeUndefined();
    expect(readDeadLetterHeaders({ ...agent, rejected_by: 'someone' })).toBeUndefined();
    expect(readDeadLetterHeaders({ ...agent, batch_offset: undefined })).toBeUndefined();
    expect(readDeadLetterHeaders({ ...deadLetterHeaders(fromCollector), offset: '-1' })).toBeUndefined();
    // The collector's headers before this schema.
    expect(readDeadLetterHeaders({ 'pintrace-reason': 'undecodable', 'pintrace-source': 'spans/2/9' })).toBeUndefined();
  });
});
