//go:build !windows

package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/cairnlabs/cairn/daemon/api"
	"github.com/cairnlabs/cairn/daemon/instance"
	"github.com/cairnlabs/cairn/daemon/service"
)

// doctor prints who runs the daemon and what a takeover would do; the
// classification itself is tested in daemon/instance with a fake manager.
func TestDoctorPrintsTheServiceClassification(t *testing.T) {
	d := instance.Diagnosis{
		State:      instance.StateRunning,
		Port:       7070,
		Daemon:     &api.Health{PID: 4242, Version: "test"},
		Addr:       "127.0.0.1:7070",
		Supervisor: "systemd",
		Service:    &service.Unit{Manager: service.Systemd, Name: service.UnitName, Ours: true},
	}
	d.Holder = instance.Classify(d)
	var b bytes.Buffer
	printDoctor(&b, d, nil)
	for _, want := range []string{
		"running at 127.0.0.1:7070 (PID 4242, version test, up 0 s), run by the systemd user unit cairn.service",
		"started by systemd",
		"service    systemd user unit cairn.service (stop it with: systemctl --user stop cairn.service)",
		"holder     cairn_service: a Cairn daemon (PID 4242) serves at 127.0.0.1:7070, run by the systemd user unit cairn.service (takeover stops it through systemd",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("doctor output lacks %q:\n%s", want, b.String())
		}
	}

	d.Service = &service.Unit{Manager: service.Launchd}
	d.Holder = instance.Classify(d)
	b.Reset()
	printDoctor(&b, d, nil)
	if !strings.Contains(b.String(), "holder     untouchable:") || !strings.Contains(b.String(), "launchctl bootout") {
		t.Errorf("an unconfirmed launchd daemon:\n%s", b.String())
	}
}
