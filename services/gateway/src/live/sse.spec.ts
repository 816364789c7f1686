import { sseComment, sseEvent, sseRetry } from './sse';

describe('sseEvent', () => {
  it('frames an event with id and single-line JSON data', () => {
    expect(sseEvent('aggregate', { a: 'x\ny' }, 'k#1')).toBe('event: aggregate\nid: k#1\ndata: {"a":"x\\ny"}\n\n');
  });

  it('cannot be broken out of through the id or a comment', () => {
    expect(sseEvent('e', 1, 'a\nevent: evil')).toBe('event: e\nid: aevent: evil\ndata: 1\n\n');
    expect(sseComment('a\n\ndata: x')).toBe(': a  data: x\n\n');
    expect(sseRetry(3000)).toBe('retry: 3000\n\n');
  });
});
