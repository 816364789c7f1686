import { complianceV1 } from '@tessera/contracts';
import { listAlertsQuery, resolveAlertBody, toAlertView, toListAlertsRequest, toResolveAlertRequest } from './alert.dto';

describe('resolveAlertBody / toResolveAlertRequest', () => {
  it('maps the resolution name to the proto enum', () => {
    const body = resolveAlertBody.parse({ resolution: 'RELEASE', note: 'customer verified' });
    expect(toResolveAlertRequest('a-1', body, 'key-12345678')).toEqual({
      idempotencyKey: 'key-12345678',
      alertId: 'a-1',
      resolution: complianceV1.AlertResolution.ALERT_RESOLUTION_RELEASE,
      note: 'customer verified',
    });
  });

  it('requires a note and a known resolution', () => {
    const result = resolveAlertBody.safeParse({ resolution: 'APPROVE', note: '   ' });
    expect(result.error?.issues.map((i) => i.path.join('.')).sort()).toEqual(['note', 'resolution']);
  });
});

describe('toListAlertsRequest', () => {
  it('maps the status filter', () => {
    expect(toListAlertsRequest(listAlertsQuery.parse({ status: 'AWAITING_SECOND_APPROVAL' })).status).toBe(
      complianceV1.AlertStatus.ALERT_STATUS_AWAITING_SECOND_APPROVAL,
    );
  });
});

describe('toAlertView', () => {
  it('renders unresolved alerts with null resolution and assignee', () => {
    const alert = complianceV1.Alert.fromPartial({
      id: 'a-1',
      status: complianceV1.AlertStatus.ALERT_STATUS_OPEN,
      severity: complianceV1.AlertSeverity.ALERT_SEVERITY_HIGH,
      ruleVersion: '2026-01',
    });
    expect(toAlertView(alert)).toMatchObject({
      status: 'OPEN',
      severity: 'HIGH',
      resolution: null,
      assignee: null,
      heldTransferId: null,
      traceId: null,
      ruleVersion: '2026-01',
    });
  });

  it('exposes the trace id of the step that raised the alert', () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    expect(toAlertView(complianceV1.Alert.fromPartial({ id: 'a-2', traceId })).traceId).toBe(traceId);
  });
});
