package artwork

// Shapes are tested point by point in exact int64 arithmetic, in sample
// units (see canvas). Coordinates stay below 2^14 and every product below
// 2^60, so nothing overflows.

// shape is a filled region of the plane.
type shape interface {
	// contains reports whether the point x, y lies in the shape.
	contains(x, y int64) bool
	// box returns a rectangle that holds the whole shape, edges included.
	box() rect
}

// rect is a closed, axis-aligned rectangle.
type rect struct{ x0, y0, x1, y1 int64 }

func (r rect) union(o rect) rect {
	return rect{min(r.x0, o.x0), min(r.y0, o.y0), max(r.x1, o.x1), max(r.y1, o.y1)}
}

func (r rect) intersect(o rect) rect {
	return rect{max(r.x0, o.x0), max(r.y0, o.y0), min(r.x1, o.x1), min(r.y1, o.y1)}
}

// roundRect is a rectangle whose corners are quarter ellipses with radii rx
// and ry. With ry at half the height it is a flat pebble; with rx = ry at
// half a square's side it is a circle.
type roundRect struct {
	rect
	rx, ry int64
}

func (r roundRect) contains(x, y int64) bool {
	if x < r.x0 || x > r.x1 || y < r.y0 || y > r.y1 {
		return false
	}
	dx := max(r.x0+r.rx-x, x-(r.x1-r.rx), 0)
	dy := max(r.y0+r.ry-y, y-(r.y1-r.ry), 0)
	if dx == 0 || dy == 0 {
		return true
	}
	// Inside the corner ellipse: dx²/rx² + dy²/ry² <= 1.
	return dx*dx*r.ry*r.ry+dy*dy*r.rx*r.rx <= r.rx*r.rx*r.ry*r.ry
}

func (r roundRect) box() rect { return r.rect }

// grow returns r with every edge moved out by d (in by -d), radii
// following, which is close enough to a true offset curve for the thin
// gaps and rings it draws.
func (r roundRect) grow(d int64) roundRect {
	return roundRect{rect{r.x0 - d, r.y0 - d, r.x1 + d, r.y1 + d}, max(r.rx+d, 0), max(r.ry+d, 0)}
}

// circle returns the disc of radius r around cx, cy.
func circle(cx, cy, r int64) roundRect {
	return roundRect{rect{cx - r, cy - r, cx + r, cy + r}, r, r}
}

// capsule is the set of points within r of the segment a–b: a stroke with
// round caps.
type capsule struct{ ax, ay, bx, by, r int64 }

func (c capsule) contains(x, y int64) bool {
	vx, vy := c.bx-c.ax, c.by-c.ay
	wx, wy := x-c.ax, y-c.ay
	dot := wx*vx + wy*vy
	l2 := vx*vx + vy*vy
	switch {
	case dot <= 0:
		return wx*wx+wy*wy <= c.r*c.r
	case dot >= l2:
		ux, uy := x-c.bx, y-c.by
		return ux*ux+uy*uy <= c.r*c.r
	default:
		// Distance to the line is |w×v|/|v|; compare squares.
		cross := wx*vy - wy*vx
		return cross*cross <= c.r*c.r*l2
	}
}

func (c capsule) box() rect {
	return rect{min(c.ax, c.bx) - c.r, min(c.ay, c.by) - c.r, max(c.ax, c.bx) + c.r, max(c.ay, c.by) + c.r}
}

// union is every point in any of its shapes.
type union []shape

func (u union) contains(x, y int64) bool {
	for _, s := range u {
		if s.contains(x, y) {
			return true
		}
	}
	return false
}

func (u union) box() rect {
	b := u[0].box()
	for _, s := range u[1:] {
		b = b.union(s.box())
	}
	return b
}

// minus is a with b cut out of it.
type minus struct{ a, b shape }

func (m minus) contains(x, y int64) bool { return m.a.contains(x, y) && !m.b.contains(x, y) }
func (m minus) box() rect                { return m.a.box() }

// both is the overlap of a and b.
type both struct{ a, b shape }

func (m both) contains(x, y int64) bool { return m.a.contains(x, y) && m.b.contains(x, y) }
func (m both) box() rect                { return m.a.box().intersect(m.b.box()) }
