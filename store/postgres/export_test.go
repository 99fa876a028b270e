package postgres

// SetSweepLocked makes s call f when a sweep has taken its lock, before it
// sweeps, so that a test can hold a sweep there while another server tries.
func SetSweepLocked(s *Store, f func(lock int64)) { s.sweepLocked = f }
