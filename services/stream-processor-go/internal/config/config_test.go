package config

import (
	"errors"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(map[string]string{"KAFKA_BROKERS": "a:1, b:2"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Brokers) != 2 || c.GroupID != "stream-processor-go.aggregates" || c.StateTopic != "stream-processor-go.aggregates.state" {
		t.Errorf("defaults: %+v", c)
	}
	if len(c.Window.Windows) != 3 || c.Window.AllowedLateness != 30*time.Second || c.Window.Dimensions[1] != "plan" {
		t.Errorf("window defaults: %+v", c.Window)
	}
}

func TestLoadNamesTheBadVariable(t *testing.T) {
	for name, m := range map[string]map[string]string{
		"KAFKA_BROKERS":                        {},
		"STREAM_PROCESSOR_GO_ALLOWED_LATENESS": {"KAFKA_BROKERS": "a:1", "STREAM_PROCESSOR_GO_ALLOWED_LATENESS": "soon"},
		"STREAM_PROCESSOR_GO_WINDOWS":          {"KAFKA_BROKERS": "a:1", "STREAM_PROCESSOR_GO_WINDOWS": "60s/7s"},
		"STREAM_PROCESSOR_GO_MAX_POLL_RECORDS": {"KAFKA_BROKERS": "a:1", "STREAM_PROCESSOR_GO_MAX_POLL_RECORDS": "x"},
	} {
		_, err := Load(env(m))
		var cfgErr *Error
		if !errors.As(err, &cfgErr) || cfgErr.Var != name {
			t.Errorf("%s: got %v", name, err)
		}
	}
}
