package broker

import (
	"os"
	"testing"

	"github.com/livemod/livemod/internal/testenv"
)

func TestMain(m *testing.M) {
	testenv.QuietRedisLog()
	os.Exit(m.Run())
}
