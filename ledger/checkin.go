package ledger

// ScanAnswer is a scan's decision with what the volunteer's phone shows of
// it, read in the scan's own transaction after its write: one transaction
// answers a check-in.
type ScanAnswer struct {
	ScanDecision
	// Event is the event scanned, as the scan read it.
	Event Event
	// MemberName is the name of the member who scanned.
	MemberName string
	// UnitName is the name of the event's unit ("" if it has none).
	UnitName string
	// Total and Open count the event's attendances after the scan: in all,
	// and open now.
	Total, Open int
	// ClosedEventTitle is the title of the event of Closed, if any.
	ClosedEventTitle string
}
