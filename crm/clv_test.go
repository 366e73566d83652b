package crm_test

import (
	"math"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// TestValueModelByHand checks the model against values worked out by hand
// from its formulas (see ValueModel).
func TestValueModelByHand(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	tests := []struct {
		name          string
		a             crm.Aggregates
		alive, orders float64
		clv           int64
	}{
		{
			// The case: one order of 3.000.000 ₫, silent 274 days.
			// λ = 1/(90+274) = 1/364; μ = 1/730; (λ+μ)·274 = 1.12830;
			// μ/(λ+μ) = 364/1094 = 0.33272; P = 1/(1+0.33272·2.09036) = 0.58982;
			// E = 0.58982 · 730/364 · (1−e^−0.5) = 0.46545; CLV = 1.396.353 ₫.
			name: "one order, silent 274 days",
			a: crm.Aggregates{Orders: 1, TotalSpent: 3_000_000,
				FirstOrder: now.Add(-274 * day), LastOrder: now.Add(-274 * day)},
			alive: 0.58982, orders: 0.46545, clv: 1_396_353,
		},
		{
			// Twelve orders in a year, the last 10 days ago, 500.000 ₫ each.
			// λ = 12/455 = 0.026374; λ+μ = 0.027744; e^{0.27744}−1 = 0.31975;
			// μ/(λ+μ) = 0.049383; P = 1/(1+0.015790) = 0.98445;
			// E = 0.98445 · 0.026374·730 · 0.393469 = 7.45758; CLV = 3.728.790 ₫.
			name: "loyal monthly buyer",
			a: crm.Aggregates{Orders: 12, TotalSpent: 6_000_000,
				FirstOrder: now.Add(-365 * day), LastOrder: now.Add(-10 * day)},
			alive: 0.98445, orders: 7.45758, clv: 3_728_790,
		},
		{name: "no orders", a: crm.Aggregates{}, alive: 0, orders: 0, clv: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := crm.DefaultValueModel.Value(&tt.a, now)
			if math.Abs(v.Alive-tt.alive) > 5e-5 {
				t.Errorf("P(alive) = %.5f, want %.5f", v.Alive, tt.alive)
			}
			if math.Abs(v.ExpectedOrders-tt.orders) > 5e-5 {
				t.Errorf("expected orders = %.5f, want %.5f", v.ExpectedOrders, tt.orders)
			}
			if d := v.CLV - tt.clv; d < -200 || d > 200 {
				t.Errorf("CLV = %d, want %d (±200 ₫ for the rounding of the hand values)", v.CLV, tt.clv)
			}
		})
	}
}
