package pcapio

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	removeBenchFiles()
	os.Exit(code)
}
