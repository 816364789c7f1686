package processor

import (
	commonv1 "github.com/tessera/tessera/services/stream-processor-go/gen/tessera/common/v1"
	paymentsv1 "github.com/tessera/tessera/services/stream-processor-go/gen/tessera/payments/v1"
	"github.com/tessera/tessera/services/stream-processor-go/internal/window"
	"google.golang.org/protobuf/proto"
)

// Payment metrics: the TS stage's payments/payment-event.decoder.ts, so both stages have the same scope (issue #15).
// payments.transfer.events.v1 is keyed by account over several partitions; every payment window (total and per
// currency) must be aggregated in one state, so the records the aggregation uses are first copied under one key to a
// one-partition repartition topic (Kafka Streams' repartition step), which is then aggregated like a raw partition.
const (
	PaymentsTenant = "payments"
	PaymentsStream = "transfers"
	// PaymentsRepartitionKey is the one key of the repartition topic (the TS stage's PAYMENTS_REPARTITION_KEY).
	PaymentsRepartitionKey = "payments/transfers"
)

// paymentDimensions: payment metrics are split by currency only (plus the total), whatever the analytics dimensions.
var paymentDimensions = []string{"currency"}

var (
	transferCreatedType  = string((&paymentsv1.TransferCreated{}).ProtoReflect().Descriptor().FullName())
	transferDeclinedType = string((&paymentsv1.TransferDeclined{}).ProtoReflect().Descriptor().FullName())
)

// isAggregatedPaymentEvent: whether the aggregation needs this record, a TransferCreated or TransferDeclined, or a
// record it cannot even read as an envelope (dead-lettered there with its reason). Only these are copied.
func isAggregatedPaymentEvent(value []byte) bool {
	env, rej := decodeEnvelope(value)
	return rej != nil || env.Type == transferCreatedType || env.Type == transferDeclinedType
}

// decodePayment maps a payment event onto one event of tenant "payments", stream "transfers", split by currency: a
// created transfer counts (transfer.count = 1) and adds its amount in minor units (transfer.value); a declined one (at
// creation or after review) adds transfer.declined = 1, so decline rate = declined / count per window. Other payment
// events are ignored (ignored = true), not poison. Checks, order and codes are the TS decoder's.
func decodePayment(value []byte) (ev window.Event, traceparent string, rej *Rejection, ignored bool) {
	env, rej := decodeEnvelope(value)
	if rej != nil {
		return ev, "", rej, false
	}
	var transfer *paymentsv1.Transfer
	var measurements []window.Measurement
	switch env.Type {
	case transferCreatedType:
		var m paymentsv1.TransferCreated
		if err := proto.Unmarshal(env.Data, &m); err != nil {
			return ev, "", reject(CodeInvalidPayload, "payload is not a %s: %v", truncate(env.Type, 100), err), false
		}
		transfer = m.Transfer
		if transfer.GetAmount() == nil {
			return ev, "", reject(CodeInvalidEvent, "TransferCreated without amount"), false
		}
		measurements = append(measurements, window.Measurement{Metric: "transfer.count", Value: 1}, window.Measurement{Metric: "transfer.value", Value: float64(transfer.Amount.AmountMinor)})
		if transfer.Status == paymentsv1.TransferStatus_TRANSFER_STATUS_DECLINED {
			measurements = append(measurements, window.Measurement{Metric: "transfer.declined", Value: 1})
		}
	case transferDeclinedType:
		var m paymentsv1.TransferDeclined
		if err := proto.Unmarshal(env.Data, &m); err != nil {
			return ev, "", reject(CodeInvalidPayload, "payload is not a %s: %v", truncate(env.Type, 100), err), false
		}
		transfer = m.Transfer
		measurements = append(measurements, window.Measurement{Metric: "transfer.declined", Value: 1})
	default:
		return ev, "", nil, true
	}
	at := transfer.GetCreatedAt()
	if at == nil {
		at = env.Time
	}
	if at == nil {
		return ev, "", reject(CodeInvalidEvent, "no event time"), false
	}
	currency := transfer.GetAmount().GetCurrency()
	if currency == "" {
		currency = "UNKNOWN"
	}
	return window.Event{
		ID: env.Id, Tenant: PaymentsTenant, Stream: PaymentsStream, TimeMs: at.AsTime().UnixMilli(),
		Measurements: measurements, Dimensions: paymentDimensions,
		Attributes: map[string]string{"currency": currency, "user_id": transfer.GetSourceAccountId()},
	}, env.Traceparent, nil, false
}

// decodeEnvelope is @tessera/kafka's decodeEnvelope: an empty value, bytes that are not an EventEnvelope and an
// envelope without id or type are all ANALYTICS.INVALID_ENVELOPE, for raw and payment records alike.
func decodeEnvelope(value []byte) (*commonv1.EventEnvelope, *Rejection) {
	if len(value) == 0 {
		return nil, reject(CodeInvalidEnvelope, "empty record value")
	}
	var env commonv1.EventEnvelope
	if err := proto.Unmarshal(value, &env); err != nil {
		return nil, reject(CodeInvalidEnvelope, "record value is not an EventEnvelope: %v", err)
	}
	if env.Id == "" || env.Type == "" {
		return nil, reject(CodeInvalidEnvelope, "envelope lacks id or type")
	}
	return &env, nil
}
