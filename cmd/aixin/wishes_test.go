package main

import (
	"context"
	"strings"
	"testing"
)

// TestWishClaimDaysSetting: the claim days come from --wish-claim-days or
// AIXIN_WISH_CLAIM_DAYS; a value that cannot be read, or one out of range,
// stops the start and says which.
func TestWishClaimDaysSetting(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"AIXIN_WISH_CLAIM_DAYS": "seven"}, nil, "AIXIN_WISH_CLAIM_DAYS"},
		{map[string]string{"AIXIN_WISH_CLAIM_DAYS": "0"}, nil, "--wish-claim-days 0"},
		{nil, []string{"--wish-claim-days", "400"}, "--wish-claim-days 400"},
	} {
		env := map[string]string{"AIXIN_DATA": t.TempDir(), "AIXIN_ADMIN_PASSWORD": "a-long-password-2026"}
		for k, v := range tc.env {
			env[k] = v
		}
		var out, errs syncBuffer
		err := run(context.Background(), append([]string{"serve", "--addr", "127.0.0.1:0"}, tc.args...), envFrom(env), nil, &out, &errs)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: %v, want an error naming %s", tc.env, tc.args, err, tc.want)
		}
	}
}
