import { WindowState } from './window-state';

const id = { tenantId: 't1', streamId: 's1', metric: 'm', dimKey: '', dimValue: '', sizeMs: 10_000, slideMs: 10_000, startMs: 0 };

describe(WindowState, () => {
  describe('summary', () => {
    it('carries the newest event time added, whatever the arrival order, and keeps it when closed', () => {
      const w = new WindowState(id);
      w.add(1, 'u1', 7_000);
      w.add(2, 'u2', 3_000);
      expect(w.summary().maxEventTimeMs).toBe(7_000);
      w.close();
      expect(w.summary().maxEventTimeMs).toBe(7_000);
    });
  });

  describe('fromJSON', () => {
    it('restores the newest event time of an open and of a closed window', () => {
      const open = new WindowState(id);
      open.add(1, undefined, 4_000);
      expect(WindowState.fromJSON(JSON.parse(JSON.stringify(open.toJSON()))).summary().maxEventTimeMs).toBe(4_000);
      open.close();
      expect(WindowState.fromJSON(JSON.parse(JSON.stringify(open.toJSON()))).summary().maxEventTimeMs).toBe(4_000);
    });

    it('leaves it unknown for state written before it was tracked, even after more events', () => {
      const w = new WindowState(id);
      w.add(1, undefined, 4_000);
      const { maxEventTimeMs: _dropped, ...legacy } = JSON.parse(JSON.stringify(w.toJSON())) as ReturnType<WindowState['toJSON']>;
      const restored = WindowState.fromJSON(legacy);
      restored.add(2, undefined, 5_000);
      expect(restored.summary().count).toBe(2);
      expect(restored.summary()).not.toHaveProperty('maxEventTimeMs');
    });
  });
});
