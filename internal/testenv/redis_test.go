package testenv

import "testing"

func TestRedisStopRestart(t *testing.T) {
	r := StartRedis(t)
	if err := ping(r.Addr()); err != nil {
		t.Fatalf("ping after start: %v", err)
	}
	r.Stop()
	if err := ping(r.Addr()); err == nil {
		t.Fatal("ping answered after Stop")
	}
	r.Start()
	if err := ping(r.Addr()); err != nil {
		t.Fatalf("ping after restart: %v", err)
	}
}
