//go:build !linux && !darwin && !windows

package platform

import (
	"fmt"
	"runtime"
)

// permissionHint is ErrPermissionDenied's message.
const permissionHint = "permission denied: run with administrator rights"

func open(cfg Config) (Source, error) {
	return nil, &PlatformError{Op: "open", Interface: cfg.Interface, Err: fmt.Errorf("live capture is not implemented on %s (capture from a file instead)", runtime.GOOS)}
}

func interfaces() ([]Interface, error) {
	return nil, &PlatformError{Op: "list interfaces", Err: fmt.Errorf("live capture is not implemented on %s", runtime.GOOS)}
}
