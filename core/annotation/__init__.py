"""What a user (or the simulated user) puts on a frame, as plain types and their geometry: caliper points and
clicks (`points`, `clicks`), whether points lie on their frame (`bounds`), lengths in px and mm (`measurements`),
calipers simulated from a mask (`caliper_simulation`) and sparse labels simulated from a mask for benchmarks
(`sparse_simulation`: scribbles, boxes, points). Floor 1: imports nothing in core but `errors`."""
