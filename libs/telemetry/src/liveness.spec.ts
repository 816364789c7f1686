import { clearComponentFailures, componentFailures, onComponentFailure, reportComponentFailure } from './liveness';

afterEach(() => clearComponentFailures());

describe('component failures', () => {
  it('tells listeners of failures before and after they subscribed, once per component', () => {
    reportComponentFailure('kafka consumer a.b', new Error('first'));
    const seen: string[] = [];
    const off = onComponentFailure((f) => seen.push(`${f.component}: ${f.error.message}`));
    reportComponentFailure('kafka consumer a.b', new Error('again'));
    reportComponentFailure('kafka consumer c.d', new Error('second'));
    off();
    reportComponentFailure('kafka consumer e.f', new Error('after unsubscribe'));
    expect(seen).toEqual(['kafka consumer a.b: first', 'kafka consumer c.d: second']);
    expect(componentFailures().map((f) => f.component)).toEqual(['kafka consumer a.b', 'kafka consumer c.d', 'kafka consumer e.f']);
  });
});
