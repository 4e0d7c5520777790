package shop

// Observer is told what the shop did, once it is committed: metrics
// implement it. The shop's decisions never depend on it.
type Observer interface {
	// OrderCreated is called for each order stored.
	OrderCreated()
	// Received is called for each inbound message stored (a notification,
	// a return redirect, a query or refund answer), with the decision as
	// applied.
	Received(source string, d Decision)
	// RefundOutcome is called each time a refund attempt ends: succeeded,
	// failed (refused by Alipay) or unknown (to be settled later).
	RefundOutcome(result RefundResult)
}

// RefundResult is how one attempt at a refund ended.
type RefundResult string

// Refund attempt results.
const (
	RefundResultSucceeded RefundResult = "succeeded"
	RefundResultFailed    RefundResult = "failed"
	RefundResultUnknown   RefundResult = "unknown"
)

type nopObserver struct{}

func (nopObserver) OrderCreated()              {}
func (nopObserver) Received(string, Decision)  {}
func (nopObserver) RefundOutcome(RefundResult) {}
