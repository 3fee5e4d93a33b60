package store

// SetCommonTagThreshold lets tests drive the tag-sorted list path on small
// data; it returns a function restoring the previous threshold.
func SetCommonTagThreshold(n int) func() {
	old := commonTagThreshold
	commonTagThreshold = n
	return func() { commonTagThreshold = old }
}
