package words

import (
	"testing"
	"time"
)

func TestClockAndAt(t *testing.T) {
	loc := time.FixedZone("CET", 3600)
	now := time.Date(2026, 3, 4, 10, 0, 0, 0, loc) // a Wednesday
	tests := []struct {
		name      string
		t         time.Time
		clock, at string
	}{
		{"today", time.Date(2026, 3, 4, 14, 32, 0, 0, loc), "14:32", "at 14:32"},
		{"today in UTC is shown in now's zone", time.Date(2026, 3, 4, 13, 32, 0, 0, time.UTC), "14:32", "at 14:32"},
		{"tomorrow", time.Date(2026, 3, 5, 9, 0, 0, 0, loc), "tomorrow 09:00", "tomorrow at 09:00"},
		{"yesterday", time.Date(2026, 3, 3, 22, 10, 0, 0, loc), "yesterday 22:10", "yesterday at 22:10"},
		{"this week", time.Date(2026, 3, 9, 9, 0, 0, 0, loc), "Mon 09:00", "on Monday at 09:00"},
		{"next week", time.Date(2026, 3, 12, 9, 0, 0, 0, loc), "12 Mar 09:00", "on 12 Mar at 09:00"},
		{"last week", time.Date(2026, 2, 20, 9, 0, 0, 0, loc), "20 Feb 09:00", "on 20 Feb at 09:00"},
		{"just after midnight UTC is still today here", time.Date(2026, 3, 4, 22, 30, 0, 0, time.UTC), "23:30", "at 23:30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Clock(tt.t, now); got != tt.clock {
				t.Errorf("Clock = %q, want %q", got, tt.clock)
			}
			if got := At(tt.t, now); got != tt.at {
				t.Errorf("At = %q, want %q", got, tt.at)
			}
		})
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "under a minute"},
		{59 * time.Second, "under a minute"},
		{time.Minute, "1 min"},
		{42*time.Minute + 59*time.Second, "42 min"},
		{time.Hour, "1 h"},
		{2*time.Hour + 13*time.Minute, "2 h 13 min"},
		{24 * time.Hour, "1 day"},
		{30 * time.Hour, "1 day 6 h"},
		{72 * time.Hour, "3 days"},
		{-5 * time.Minute, "5 min"},
	}
	for _, tt := range tests {
		if got := Duration(tt.d); got != tt.want {
			t.Errorf("Duration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestInAgoBack(t *testing.T) {
	now := time.Date(2026, 3, 4, 13, 23, 0, 0, time.UTC)
	tests := []struct {
		name, got, want string
	}{
		{"in", In(now.Add(42*time.Minute), now), "in 42 min"},
		{"in, past", In(now.Add(-time.Minute), now), "now"},
		{"ago", Ago(now.Add(-5*time.Minute), now), "5 min ago"},
		{"ago, future", Ago(now.Add(time.Minute), now), "just now"},
		{"back soon", Back(now.Add(42*time.Minute), now), "at 14:05 (in 42 min)"},
		{"back tomorrow", Back(now.Add(20*time.Hour), now), "tomorrow at 09:23 (in 20 h)"},
		{"back in days", Back(now.Add(50*time.Hour), now), "on Friday at 15:23"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}
