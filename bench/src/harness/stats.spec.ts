import { fmtRatio, percentile, ratio, sandwich } from './stats';

describe('percentile', () => {
  it('takes the nearest rank of unsorted samples', () => {
    const samples = [9, 1, 5, 3, 7, 2, 8, 4, 6, 10];
    expect(percentile(samples, 50)).toBe(5);
    expect(percentile(samples, 99)).toBe(10);
    expect(percentile(samples, 0)).toBe(1);
  });

  it('is 0 without samples', () => {
    expect(percentile([], 99)).toBe(0);
  });
});

describe('sandwich', () => {
  it('averages the two baselines and flags a spread over 15%', () => {
    expect(sandwich(100, 110)).toEqual({ mean: 105, spread: 0.095, noisy: false });
    expect(sandwich(100, 130).noisy).toBe(true);
  });
});

describe('ratio', () => {
  it('divides, rounds to 4 digits and survives a zero baseline', () => {
    expect(ratio(270, 12_500)).toBe(0.0216);
    expect(ratio(5, 0)).toBe(0);
    expect(fmtRatio(0.0216)).toBe('0.022x');
    expect(fmtRatio(1.5)).toBe('1.50x');
  });
});
