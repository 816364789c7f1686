package processor

import (
	"reflect"
	"testing"
	"time"

	commonv1 "github.com/tessera/tessera/services/stream-processor-go/gen/tessera/common/v1"
	paymentsv1 "github.com/tessera/tessera/services/stream-processor-go/gen/tessera/payments/v1"
	"github.com/tessera/tessera/services/stream-processor-go/internal/window"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func paymentEnvelope(t *testing.T, typ string, msg proto.Message, at time.Time) []byte {
	t.Helper()
	data, err := proto.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := proto.Marshal(&commonv1.EventEnvelope{Id: "env-1", Type: typ, Source: "transactions", Time: timestamppb.New(at), Data: data})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func transfer(status paymentsv1.TransferStatus, amount *commonv1.Money) *paymentsv1.Transfer {
	return &paymentsv1.Transfer{Id: "t1", SourceAccountId: "acc-1", Amount: amount, Status: status, CreatedAt: timestamppb.New(now.Add(-time.Minute))}
}

func TestPaymentEventsBecomeMeasurementsPerCurrency(t *testing.T) {
	eur := &commonv1.Money{AmountMinor: 1234, Currency: "EUR"}
	cases := map[string]struct {
		value []byte
		want  []window.Measurement
		time  time.Time
		cur   string
	}{
		"created": {paymentEnvelope(t, transferCreatedType, &paymentsv1.TransferCreated{Transfer: transfer(paymentsv1.TransferStatus_TRANSFER_STATUS_POSTED, eur)}, now),
			[]window.Measurement{{Metric: "transfer.count", Value: 1}, {Metric: "transfer.value", Value: 1234}}, now.Add(-time.Minute), "EUR"},
		"declined at creation": {paymentEnvelope(t, transferCreatedType, &paymentsv1.TransferCreated{Transfer: transfer(paymentsv1.TransferStatus_TRANSFER_STATUS_DECLINED, eur)}, now),
			[]window.Measurement{{Metric: "transfer.count", Value: 1}, {Metric: "transfer.value", Value: 1234}, {Metric: "transfer.declined", Value: 1}}, now.Add(-time.Minute), "EUR"},
		// No transfer: the envelope's time and currency UNKNOWN, as the TS decoder.
		"declined after review, no transfer": {paymentEnvelope(t, transferDeclinedType, &paymentsv1.TransferDeclined{DeclinedBy: "officer"}, now),
			[]window.Measurement{{Metric: "transfer.declined", Value: 1}}, now, "UNKNOWN"},
	}
	for name, c := range cases {
		ev, _, rej, ignored := decodePayment(c.value)
		if rej != nil || ignored {
			t.Fatalf("%s: rejected %v, ignored %v", name, rej, ignored)
		}
		if ev.Tenant != PaymentsTenant || ev.Stream != PaymentsStream || ev.ID != "env-1" || ev.TimeMs != c.time.UnixMilli() {
			t.Errorf("%s: event %+v", name, ev)
		}
		if !reflect.DeepEqual(ev.Measurements, c.want) || ev.Attributes["currency"] != c.cur || !reflect.DeepEqual(ev.Dimensions, []string{"currency"}) {
			t.Errorf("%s: measurements %v attributes %v dimensions %v", name, ev.Measurements, ev.Attributes, ev.Dimensions)
		}
		if !isAggregatedPaymentEvent(c.value) {
			t.Errorf("%s: not copied to the repartition topic", name)
		}
	}
}

func TestPaymentEventsWithoutMetricsAreIgnoredAndBadOnesRejected(t *testing.T) {
	opened := paymentEnvelope(t, "tessera.payments.v1.AccountOpened", &paymentsv1.AccountOpened{}, now)
	if _, _, rej, ignored := decodePayment(opened); rej != nil || !ignored {
		t.Errorf("AccountOpened: rejected %v, ignored %v", rej, ignored)
	}
	if isAggregatedPaymentEvent(opened) {
		t.Error("AccountOpened is copied although no metric uses it")
	}
	noID, _ := proto.Marshal(&commonv1.EventEnvelope{Type: transferCreatedType})
	cases := map[string]struct {
		value []byte
		code  string
	}{
		"empty value":        {nil, CodeInvalidEnvelope},
		"garbage":            {[]byte("not an envelope"), CodeInvalidEnvelope},
		"envelope lacks id":  {noID, CodeInvalidEnvelope},
		"truncated payload":  {envelope(t, transferCreatedType, []byte{0x0a, 0x05, 0x61}), CodeInvalidPayload},
		"created, no amount": {paymentEnvelope(t, transferCreatedType, &paymentsv1.TransferCreated{Transfer: transfer(paymentsv1.TransferStatus_TRANSFER_STATUS_POSTED, nil)}, now), CodeInvalidEvent},
		"no time at all":     {envelope(t, transferDeclinedType, nil), CodeInvalidEvent},
	}
	for name, c := range cases {
		if _, _, rej, _ := decodePayment(c.value); rej == nil || rej.Code != c.code {
			t.Errorf("%s: got %v, want %s", name, rej, c.code)
		}
		if !isAggregatedPaymentEvent(c.value) && c.code == CodeInvalidEnvelope {
			t.Errorf("%s: an unreadable record is not copied, so it would never be dead-lettered", name)
		}
	}
}

func TestStateLayoutPutsTheRepartitionTopicAfterTheRawPartitions(t *testing.T) {
	l := stateLayout{topics: []string{"raw", "repartition"}, counts: []int32{6, 1}}
	if p, ok := l.statePartition("repartition", 0); !ok || p != 6 {
		t.Errorf("repartition/0 -> %d %v", p, ok)
	}
	if p, ok := l.statePartition("raw", 5); !ok || p != 5 {
		t.Errorf("raw/5 -> %d %v", p, ok)
	}
	if _, ok := l.statePartition("raw", 6); ok {
		t.Error("raw/6 does not exist")
	}
	if topic, p := l.source(6); topic != "repartition" || p != 0 {
		t.Errorf("6 -> %s/%d", topic, p)
	}
	if l.total() != 7 {
		t.Errorf("total %d", l.total())
	}
}
