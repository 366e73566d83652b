package slack

import (
	"context"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// Core is what the Slack adapter needs of the conversation core: its
// handoffs and its clock (the reps' operations come from Options.Reps,
// offers from Options.Offers). It is defined here, where it is used;
// *bot.Core implements it.
type Core interface {
	Handoffs
	// Now is the core's clock, so cards and commands agree with it.
	Now() time.Time
}

// Reps are the reps' operations on customers: look up, cards, segments,
// stats, orders, notes, tags, and turning claims into identity. *bot.Reps
// implements it.
type Reps interface {
	FindCustomers(ctx context.Context, query string) ([]*crm.Customer, error)
	FindCustomersCounted(ctx context.Context, query string) (found []*crm.Customer, total int, err error)
	ResolveCustomer(ctx context.Context, ref string) (*crm.Customer, error)
	CustomerCard(ctx context.Context, id crm.ID) (*bot.CustomerCard, error)
	SegmentPage(ctx context.Context, name string, page, size int) (*bot.SegmentPage, error)
	Segments() *crm.Segments
	Stats(ctx context.Context, days int) (*bot.Stats, error)
	RecordOrder(ctx context.Context, o crm.Order, cause string) (cust *crm.Customer, mv *crm.SegmentChange, added bool, err error)
	AddNote(ctx context.Context, id crm.ID, author, text string) (*crm.Customer, error)
	Tag(ctx context.Context, id crm.ID, tag string) (*crm.Customer, *crm.SegmentChange, error)
	Untag(ctx context.Context, id crm.ID, tag string) (*crm.Customer, *crm.SegmentChange, error)
	ConfirmClaims(ctx context.Context, id crm.ID, who string) (*crm.Customer, error)
	MergeCustomers(ctx context.Context, keep, from crm.ID, who string) (*crm.Customer, error)
}

// Handoffs are a conversation handed to a person and back.
type Handoffs interface {
	SetHandoffThread(ctx context.Context, id crm.ID, thread string) (*crm.Customer, error)
	CustomerByHandoffThread(ctx context.Context, thread string) (*crm.Customer, error)
	HandoffConversation(ctx context.Context, id crm.ID, n int) (*crm.Customer, []*crm.Interaction, error)
	TakeHandoff(ctx context.Context, id crm.ID, agent string) (*crm.Customer, error)
	ReleaseHandoff(ctx context.Context, id crm.ID, agent string) (crm.Handoff, error)
	SendAsAgentOnce(ctx context.Context, customer crm.ID, author, text, key string) (*crm.OutboxItem, error)
}

// Offers are the admins' offer commands.
type Offers interface {
	ListOffers(ctx context.Context) ([]*bot.OfferView, error)
	GetOffer(ctx context.Context, id string) (*bot.OfferView, error)
	OfferHistory(ctx context.Context, id string) ([]*bot.OfferVersion, error)
	PreviewOffer(ctx context.Context, o *crm.Offer, customerID crm.ID, segment string) (*bot.OfferPreview, error)
	SaveOffer(ctx context.Context, o *crm.Offer, expectedVersion int, who, origin string) (*crm.Offer, error)
	SetOfferStatus(ctx context.Context, id, status, who, origin string) (*crm.Offer, error)
}

var (
	_ Core   = (*bot.Core)(nil)
	_ Reps   = (*bot.Reps)(nil)
	_ Offers = (*bot.OfferAdmin)(nil)
)
