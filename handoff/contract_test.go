package handoff_test

import (
	"testing"

	"github.com/livemod/livemod/handoff"
	"github.com/livemod/livemod/handoff/ticketstest"
)

func TestMemoryTicketsContract(t *testing.T) {
	ticketstest.Run(t, func(*testing.T) handoff.Tickets { return &handoff.MemoryTickets{} })
}
