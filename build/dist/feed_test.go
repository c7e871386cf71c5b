package main

import "testing"

// TestFeedFor: a release asks the release feed, a development build none,
// and -feed wins either way.
func TestFeedFor(t *testing.T) {
	for _, tc := range []struct{ flag, version, want string }{
		{"default", "1.2.3", releaseFeed},
		{"default", "0.2.0-dev.14.gabc1234", ""},
		{"", "1.2.3", ""},
		{"http://127.0.0.1:9/feed", "0.2.0-dev.1.g1", "http://127.0.0.1:9/feed"},
	} {
		if got := feedFor(tc.flag, tc.version); got != tc.want {
			t.Errorf("feedFor(%q, %q) = %q, want %q", tc.flag, tc.version, got, tc.want)
		}
	}
}
