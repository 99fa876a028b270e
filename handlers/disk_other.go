//go:build !(linux || darwin || freebsd)

package handlers

import "errors"

// freeBytes is not implemented on this system; /readyz reports the disk
// check as failed rather than guessing.
func freeBytes(dir string) (uint64, error) {
	return 0, errors.New("free disk space is not known on this system")
}
