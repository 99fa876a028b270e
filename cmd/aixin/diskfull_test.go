package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestDiskFull serves from a data folder on a small tmpfs and fills it:
// writes answer 503 with a message a person can act on, reads go on,
// /readyz says not ready, nothing is corrupted, and once space is freed
// writes work again. Mounting needs root, or sudo without a password.
func TestDiskFull(t *testing.T) {
	dir := t.TempDir()
	mount := func(args ...string) error {
		if os.Geteuid() != 0 {
			args = append([]string{"-n"}, args...)
			return exec.Command("sudo", args...).Run()
		}
		return exec.Command(args[0], args[1:]...).Run()
	}
	if err := mount("mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", dir); err != nil {
		t.Fatalf("mounting a 24 MB tmpfs for the full-disk test needs root or passwordless sudo: %v", err)
	}
	t.Cleanup(func() {
		if mount("umount", dir) != nil {
			mount("umount", "-l", dir)
		}
	})
	data := filepath.Join(dir, "data")
	env := map[string]string{"AIXIN_DATA": data, "AIXIN_ADMIN_PASSWORD": "diskfull-admin-2026", "AIXIN_MIN_FREE_MB": "1"}
	base, _, stopServe := startServe(t, env)
	var once sync.Once
	var stopErr error
	stop := func() error { once.Do(func() { stopErr = stopServe() }); return stopErr }
	t.Cleanup(func() { stop() }) // before the unmount, which a server holding the file would block
	c := client(t)
	postJSON(t, c, base+"/api/v1/login", map[string]string{"login": "admin", "password": "diskfull-admin-2026"}).Body.Close()
	var unit struct{ ID string }
	decodeBody(t, postJSON(t, c, base+"/api/v1/units", map[string]string{"name": "满盘街道", "kind": "street"}), &unit)
	phone := 0
	addMember := func() *http.Response {
		phone++
		return postJSON(t, c, base+"/api/v1/members", map[string]any{"name": "测试", "phone": fmt.Sprintf("1371234%04d", phone), "unit_id": unit.ID})
	}
	if resp := addMember(); resp.StatusCode != http.StatusCreated {
		t.Fatalf("a write with room: %s", resp.Status)
	}

	// Fill the disk.
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<16)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	f.Close()
	// Writes are refused with a clear message until one needs a new page:
	// the first few may still fit in pages bbolt had.
	var refused *http.Response
	for range 200 {
		resp := addMember()
		if resp.StatusCode == http.StatusCreated {
			resp.Body.Close()
			continue
		}
		refused = resp
		break
	}
	if refused == nil {
		t.Fatal("200 writes fitted on a full disk")
	}
	body, _ := io.ReadAll(refused.Body)
	refused.Body.Close()
	if refused.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "磁盘已满") {
		t.Fatalf("a write on a full disk: %s %s", refused.Status, body)
	}
	// Reads go on; the server says it is not ready; it is alive.
	for path, want := range map[string]int{"/api/v1/members?limit=5": 200, "/healthz": 200} {
		if resp, err := c.Get(base + path); err != nil || resp.StatusCode != want {
			t.Fatalf("%s on a full disk: %v %v", path, err, resp.Status)
		}
	}
	waitStatus(t, c, base+"/readyz", http.StatusServiceUnavailable)

	// Space again: writes work, the server is ready.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if resp := addMember(); resp.StatusCode != http.StatusCreated {
		t.Fatalf("a write after freeing space: %s", resp.Status)
	}
	waitStatus(t, c, base+"/readyz", http.StatusOK)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var vout syncBuffer
	if err := run(context.Background(), []string{"verify"}, envFrom(env), nil, &vout, &vout); err != nil || !strings.HasPrefix(vout.String(), "ok: ") {
		t.Fatalf("verify after the full disk: %v %s", err, vout.String())
	}
}

func decodeBody(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s: %s", resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// waitStatus asks url until it answers want (its answer is cached a second).
func waitStatus(t *testing.T, c *http.Client, url string, want int) {
	t.Helper()
	var got int
	for range 50 {
		resp, err := c.Get(url)
		if err == nil {
			got = resp.StatusCode
			resp.Body.Close()
			if got == want {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s answers %d, want %d", url, got, want)
}
