package store

import (
	"testing"

	"github.com/livemod/livemod/handoff"
	"github.com/livemod/livemod/handoff/ticketstest"
	"github.com/livemod/livemod/state/statetest"
)

// TestAutomationTicketsContract: the durable tickets keep the contract of
// the memory ones.
func TestAutomationTicketsContract(t *testing.T) {
	ticketstest.Run(t, func(t *testing.T) handoff.Tickets {
		_, a := openAutomation(t, t.TempDir(), AutomationOptions{})
		return a
	})
}

// TestAutomationStateContract: the durable opt-outs and ids keep the
// contract of the memory ones.
func TestAutomationStateContract(t *testing.T) {
	_, a := openAutomation(t, t.TempDir(), AutomationOptions{})
	statetest.OptOuts(t, a)
	_, b := openAutomation(t, t.TempDir(), AutomationOptions{})
	statetest.IDs(t, b)
}
