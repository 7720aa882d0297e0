package report

import "github.com/ucprobe/ucprobe/cause"

// Cause is a finding's cause id; the ids and what the report says about
// each live in package cause, which profiles can check remedy keys against.
type Cause = cause.ID
