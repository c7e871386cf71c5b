// Package runkeytest is an in-memory HKEY_CURRENT_USER for tests of code that
// uses package runkey, on any OS.
package runkeytest

import "sync"

// Fake implements runkey.Registry in memory.
type Fake struct {
	mu     sync.Mutex
	values map[string]any // key + `\` + name -> string or []byte
	Writes int            // SetString calls that reached the registry
}

// NewFake returns an empty Fake.
func NewFake() *Fake { return &Fake{values: map[string]any{}} }

func (f *Fake) String(key, name string) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.values[key+`\`+name].(string)
	return v, ok, nil
}

func (f *Fake) SetString(key, name, value string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.values[key+`\`+name] = value
	f.Writes++
	return nil
}

func (f *Fake) Binary(key, name string) ([]byte, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.values[key+`\`+name].([]byte)
	return v, ok, nil
}

// SetBinary stores a binary value, as Task Manager does for its switch.
func (f *Fake) SetBinary(key, name string, value []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.values[key+`\`+name] = value
}

func (f *Fake) Delete(key, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.values, key+`\`+name)
	return nil
}
