//go:build linux

package platform

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/internal/testenv"
)

// childEnv marks the test binary re-executed without capabilities.
const childEnv = "PKTTAP_PLATFORM_NOCAP_CHILD"

// TestPermissionDenied re-runs this test binary inside the test namespace
// with every capability dropped (setpriv) and expects Open to fail with
// ErrPermissionDenied and a message saying what to do.
func TestPermissionDenied(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		permissionChild(t)
		return
	}
	v := newVethNet(t)
	setpriv := testenv.LookPath(t, "setpriv", "setpriv")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", v.NSA, setpriv, "--inh-caps=-all", "--bounding-set=-all", "--",
		exe, "-test.run=^TestPermissionDenied$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+v.IfA)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child without CAP_NET_RAW: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestPermissionDenied") {
		t.Fatalf("child did not run the check:\n%s", out)
	}
}

func permissionChild(t *testing.T) {
	ifname := os.Getenv(childEnv)
	for _, name := range []string{ifname, "any"} {
		src, err := Open(Config{Interface: name})
		if err == nil {
			src.Close()
			t.Fatalf("Open(%s) without CAP_NET_RAW succeeded", name)
		}
		if !errors.Is(err, ErrPermissionDenied) {
			t.Fatalf("Open(%s) without CAP_NET_RAW = %v, want ErrPermissionDenied", name, err)
		}
		var pe *PlatformError
		if !errors.As(err, &pe) || pe.Interface != name {
			t.Errorf("error %v is not a *PlatformError naming %s", err, name)
		}
		if msg := err.Error(); !strings.Contains(msg, "setcap cap_net_raw=ep") {
			t.Errorf("message %q does not say how to grant the capability", msg)
		}
		t.Logf("Open(%s): %v", name, err)
	}
}
