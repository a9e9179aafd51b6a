import { describe, expect, it } from 'vitest';
import { probabilityOfThreshold, thresholdOfOtValue, thresholdOfPercent, withThreshold } from '@pintrace/model';

describe('OTel th values for sample rates', () => {
  it("matches the spec's examples: 100 % is 0, 50 % is 8, 25 % is c, 1 % is fd70a3d70a3d71", () => {
    expect(thresholdOfPercent(100)).toBe('0');
    expect(thresholdOfPercent(50)).toBe('8');
    expect(thresholdOfPercent(25)).toBe('c');
    expect(thresholdOfPercent(1)).toBe('fd70a3d70a3d71');
    expect(thresholdOfPercent(0)).toBeUndefined();
    expect(thresholdOfPercent(101)).toBeUndefined();
  });

  it('reads back the probability within 2^-56', () => {
    for (const percent of [100, 50, 10, 1, 0.3, 0.01]) {
      expect(Math.abs(probabilityOfThreshold(thresholdOfPercent(percent)!)! - percent / 100)).toBeLessThan(2 ** -50);
    }
    expect(probabilityOfThreshold('')).toBeUndefined();
    expect(probabilityOfThreshold('FF')).toBeUndefined();
    expect(probabilityOfThreshold('123456789abcdef')).toBeUndefined();
  });

  it('finds and replaces th inside an ot value, keeping its other fields', () => {
    expect(thresholdOfOtValue('rv:abc;th:c')).toBe('c');
    expect(thresholdOfOtValue('rv:abc')).toBeUndefined();
    expect(thresholdOfOtValue('th:xyz')).toBeUndefined();
    expect(withThreshold('rv:abc;th:c', '8')).toBe('th:8;rv:abc');
    expect(withThreshold(undefined, '8')).toBe('th:8');
  });
});
