package profiles

import "strings"

// Closest is the option a mistyped word most likely meant: the one within
// two edits (a third of the word at most), or the only one it is a prefix
// of; "" when nothing is that close. The CLI uses it for "did you mean".
func Closest(word string, options []string) string {
	word = strings.ToLower(word)
	best, bestD := "", 3
	var prefixed []string
	for _, o := range options {
		if strings.HasPrefix(strings.ToLower(o), word) && word != "" {
			prefixed = append(prefixed, o)
		}
		if d := editDistance(word, strings.ToLower(o)); d < bestD && d*3 <= max(len(word), 3) {
			best, bestD = o, d
		}
	}
	if best == "" && len(prefixed) == 1 {
		return prefixed[0]
	}
	return best
}

// editDistance is the Levenshtein distance (insert, delete, substitute,
// and a swap of two neighbours counted as one edit).
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
