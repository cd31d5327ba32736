"""What a user (or the simulated user) puts on a frame, as plain types and their geometry: caliper points and
clicks (`points`, `clicks`), whether points lie on their frame (`bounds`), lengths in px and mm (`measurements`)
and calipers simulated from a mask (`caliper_simulation`). Floor 1: imports nothing in core but `errors`."""
