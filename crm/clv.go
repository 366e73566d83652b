package crm

import (
	"math"
	"time"
)

// ValueModel estimates a customer's lifetime value (CLV) over a horizon
// from their recency and frequency: a Pareto/NBD with point estimates.
//
// While "alive" a customer orders at a rate λ, estimated from their repeat
// orders with a Gamma prior of PriorOrders orders in PriorDays (so one order
// says little, twenty say much): λ = (PriorOrders + orders − 1) / (PriorDays
// + T), T the days since their first order. A relationship ends at a
// constant rate μ = 1/LifetimeDays. A customer silent for the gap g since
// their last order is still alive with probability
//
//	P(alive) = 1 / (1 + μ/(λ+μ) · (e^{(λ+μ)·g} − 1))
//
// (a frequent buyer who went quiet becomes unlikely alive quickly; a rare
// one slowly). Over HorizonDays an alive customer is expected to order
// λ/μ · (1 − e^{−μ·H}) times; CLV is P(alive) times that times their
// average order value. See README "Reports" for what it supports.
type ValueModel struct {
	PriorOrders  float64
	PriorDays    float64
	LifetimeDays float64
	HorizonDays  float64
}

// DefaultValueModel is a prior of one order a quarter, relationships of two
// years on average, and the value of the next twelve months.
var DefaultValueModel = ValueModel{PriorOrders: 1, PriorDays: 90, LifetimeDays: 730, HorizonDays: 365}

// CustomerValue is what the model says about one customer.
type CustomerValue struct {
	// Rate is the estimated orders per day while alive.
	Rate float64 `json:"rate"`
	// Alive is the probability the customer still buys.
	Alive float64 `json:"alive"`
	// ExpectedOrders are the orders expected over the horizon.
	ExpectedOrders float64 `json:"expected_orders"`
	// OrderValue is the customer's average order (VND).
	OrderValue int64 `json:"order_value"`
	// CLV is the expected revenue over the horizon (VND).
	CLV int64 `json:"clv"`
}

// Value applies m to a customer's aggregates at now; a customer without
// orders has no value.
func (m ValueModel) Value(a *Aggregates, now time.Time) CustomerValue {
	if a.Orders <= 0 || a.FirstOrder.IsZero() {
		return CustomerValue{}
	}
	days := func(d time.Duration) float64 { return math.Max(0, d.Hours()/24) }
	t := days(now.Sub(a.FirstOrder))
	last := a.LastOrder
	if last.IsZero() || last.Before(a.FirstOrder) {
		last = a.FirstOrder
	}
	gap := days(now.Sub(last))
	lambda := (m.PriorOrders + float64(a.Orders-1)) / (m.PriorDays + t)
	mu := 1 / m.LifetimeDays
	alive := 1 / (1 + mu/(lambda+mu)*math.Expm1((lambda+mu)*gap))
	expected := alive * lambda / mu * -math.Expm1(-mu*m.HorizonDays)
	avg := a.TotalSpent / int64(a.Orders)
	return CustomerValue{Rate: lambda, Alive: alive, ExpectedOrders: expected, OrderValue: avg,
		CLV: int64(math.Round(expected * float64(avg)))}
}
