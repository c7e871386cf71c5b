package artwork

import (
	"fmt"
	"image/color"
)

// The cairn, laid out on the design grid (x right, y down): three flat
// pebbles, each narrower than the one it rests on, nudged off-centre the way
// real cairns settle. An upper stone overlaps the one below a little; the
// gap cut around it is what separates them.
var (
	bottomStone = pebble{64, 700, 960, 944, 300}
	middleStone = pebble{150, 466, 790, 716, 230}
	topStone    = pebble{250, 256, 650, 486, 170}
)

const (
	stoneGap  = 44 // the transparent seam between stones
	ringWidth = 84 // the outline of a hollow (stopped) template stone

	// The badge sits top right, where the top stone leaves room; a halo of
	// badgeHalo is cut out of the stones around it.
	badgeX, badgeY, badgeR = 790, 234, 200
	badgeHalo              = 48
)

// pebble is a stone in design units: a box with ends rounded by rx and top
// and bottom by half its height.
type pebble struct{ x0, y0, x1, y1, rx int64 }

// placement puts design coordinates on a canvas, scaled by num/den and
// moved by ox, oy (design units), all in exact integer arithmetic.
type placement struct{ ox, oy, num, den int64 }

var fullSize = placement{0, 0, 1, 1}

func (p placement) x(c canvas, v int64) int64 { return p.at(c, p.ox, v) }
func (p placement) y(c canvas, v int64) int64 { return p.at(c, p.oy, v) }
func (p placement) n(c canvas, v int64) int64 { return p.at(c, 0, v) }

func (p placement) at(c canvas, o, v int64) int64 {
	den := design * p.den
	return ((o*p.den+v*p.num)*c.w + den/2) / den
}

func (p placement) stone(c canvas, s pebble) roundRect {
	r := rect{p.x(c, s.x0), p.y(c, s.y0), p.x(c, s.x1), p.y(c, s.y1)}
	return roundRect{r, p.n(c, s.rx), (r.y1 - r.y0) / 2}
}

// stones returns the three stones, bottom first, each with the gap around
// the stone above already cut out of it.
func stones(c canvas, p placement) [3]shape {
	b, m, t := p.stone(c, bottomStone), p.stone(c, middleStone), p.stone(c, topStone)
	gap := p.n(c, stoneGap)
	return [3]shape{
		minus{b, m.grow(gap)},
		minus{m, t.grow(gap)},
		t,
	}
}

// badge is the mark that tells states apart beyond colour.
type badge int

const (
	noBadge    badge = iota
	dotBadge         // starting: a dot
	bangBadge        // conflict: "!"
	crossBadge       // crashed: "×"
)

// badgeShapes returns the badge's disc and the glyph drawn on (or, in a
// template, cut out of) it; glyph is nil for a plain dot.
func badgeShapes(c canvas, b badge) (disc roundRect, glyph shape) {
	u := c.u
	x, y := u(badgeX), u(badgeY)
	switch b {
	case dotBadge:
		return circle(x, y, u(150)), nil
	case bangBadge:
		return circle(x, y, u(badgeR)), union{
			capsule{x, y - u(110), x, y + u(26), u(38)},
			circle(x, y+u(106), u(42)),
		}
	case crossBadge:
		d := u(88)
		return circle(x, y, u(badgeR)), union{
			capsule{x - d, y - d, x + d, y + d, u(40)},
			capsule{x - d, y + d, x + d, y - d, u(40)},
		}
	}
	panic(fmt.Sprintf("artwork: badge %d has no shapes", b))
}

// look is how one tray state is drawn.
type look struct {
	name   string
	stones [3]color.NRGBA // bottom, middle, top
	badge  badge
	fill   color.NRGBA // the badge's disc (glyphs are white)
	// onDark and onDarkFill replace stones and fill in the variant for
	// dark panels: the same hues, lighter, so the cairn stands out from a
	// dark background instead of sinking into it.
	onDark     [3]color.NRGBA
	onDarkFill color.NRGBA
	// hollow draws the template's stones as outlines: a stopped cairn.
	hollow bool
}

func rgb(v uint32) color.NRGBA {
	return color.NRGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 0xff}
}

var (
	white = rgb(0xffffff)
	black = color.NRGBA{0, 0, 0, 0xff}
)

// looks holds the tray states in the order of menu.Icons.
var looks = []look{
	{
		name:   "running",
		stones: [3]color.NRGBA{rgb(0x1f7a45), rgb(0x2a9656), rgb(0x3cb46a)},
		onDark: [3]color.NRGBA{rgb(0x4cc47c), rgb(0x72d698), rgb(0x9be8b6)},
	},
	{
		name:   "starting",
		stones: [3]color.NRGBA{rgb(0xc98600), rgb(0xe09e0c), rgb(0xf2b630)}, badge: dotBadge, fill: rgb(0x2f6fd0),
		onDark: [3]color.NRGBA{rgb(0xf0b43a), rgb(0xf6c862), rgb(0xfbdc8e)}, onDarkFill: rgb(0x6ea6ff),
	},
	{
		name:   "stopped",
		stones: [3]color.NRGBA{rgb(0x6f757e), rgb(0x868c95), rgb(0x9ea4ac)}, hollow: true,
		onDark: [3]color.NRGBA{rgb(0xaab0b8), rgb(0xc2c7cd), rgb(0xdadde1)},
	},
	{
		name:   "conflict",
		stones: [3]color.NRGBA{rgb(0xd4610a), rgb(0xe8761a), rgb(0xf59238)}, badge: bangBadge, fill: rgb(0xb83c00),
		onDark: [3]color.NRGBA{rgb(0xf5913a), rgb(0xf8aa62), rgb(0xfbc28c)}, onDarkFill: rgb(0xe0600c),
	},
	{
		name:   "crashed",
		stones: [3]color.NRGBA{rgb(0xa8241c), rgb(0xc3362c), rgb(0xdc5046)}, badge: crossBadge, fill: rgb(0x7d1410),
		onDark: [3]color.NRGBA{rgb(0xe2625a), rgb(0xea857e), rgb(0xf2a9a4)}, onDarkFill: rgb(0xc8302a),
	},
}

// forDarkPanels returns lk recoloured for a dark panel.
func (lk look) forDarkPanels() look {
	lk.stones, lk.fill = lk.onDark, lk.onDarkFill
	return lk
}

// trayLayers draws a state in colour: tinted stones plus its badge.
func trayLayers(c canvas, lk look) []layer {
	st := stones(c, fullSize)
	var disc roundRect
	var glyph shape
	if lk.badge != noBadge {
		disc, glyph = badgeShapes(c, lk.badge)
		halo := disc.grow(c.u(badgeHalo))
		for i := range st {
			st[i] = minus{st[i], halo}
		}
	}
	var ls []layer
	for i, s := range st {
		ls = append(ls, layer{s, solid(lk.stones[i])})
	}
	if lk.badge != noBadge {
		ls = append(ls, layer{disc, solid(lk.fill)})
		if glyph != nil {
			ls = append(ls, layer{glyph, solid(white)})
		}
	}
	return ls
}

// templateLayers draws a state as a macOS template image: black and alpha
// only, since the menu bar recolours it. Shape alone tells the states
// apart: solid, hollow (stopped) and the badges, with glyphs cut out.
func templateLayers(c canvas, lk look) []layer {
	st := stones(c, fullSize)
	if lk.hollow {
		ring := c.u(ringWidth)
		b, m, t := fullSize.stone(c, bottomStone), fullSize.stone(c, middleStone), fullSize.stone(c, topStone)
		st[0] = minus{st[0], b.grow(-ring)}
		st[1] = minus{st[1], m.grow(-ring)}
		st[2] = minus{st[2], t.grow(-ring)}
	}
	var marks shape
	if lk.badge != noBadge {
		disc, glyph := badgeShapes(c, lk.badge)
		halo := disc.grow(c.u(badgeHalo))
		for i := range st {
			st[i] = minus{st[i], halo}
		}
		marks = disc
		if glyph != nil {
			marks = minus{disc, glyph}
		}
	}
	all := union{st[0], st[1], st[2]}
	if marks != nil {
		all = append(all, marks)
	}
	return []layer{{all, solid(black)}}
}

// appLayers draws the application icon: sand-coloured stones on a
// rounded slate tile, with a light rim along each stone's top.
func appLayers(c canvas) []layer {
	u := c.u
	tile := roundRect{rect{u(40), u(40), u(984), u(984)}, u(216), u(216)}
	ls := []layer{{tile, gradient(c.size, rgb(0x3f7896), rgb(0x1d3d55))}}

	// The cairn at three quarters of the tile, centred.
	p := placement{ox: 128, oy: 62, num: 3, den: 4}
	st := stones(c, p)
	whole := [3]roundRect{p.stone(c, bottomStone), p.stone(c, middleStone), p.stone(c, topStone)}
	base := [3]color.NRGBA{rgb(0xb9a684), rgb(0xcdbc9b), rgb(0xe0d3b8)}
	rim := [3]color.NRGBA{rgb(0xd9cbb0), rgb(0xe6dbc4), rgb(0xf3ecdd)}
	shade := [3]color.NRGBA{rgb(0x9c8a69), rgb(0xb09f7e), rgb(0xc4b596)}
	inset := u(14)
	for i, s := range st {
		w := whole[i]
		h := w.y1 - w.y0
		up := roundRect{rect{w.x0, w.y0 - h/5, w.x1, w.y1 - h/5}, w.rx, w.ry}
		down := roundRect{rect{w.x0, w.y0 + h/4, w.x1, w.y1 + h/4}, w.rx, w.ry}
		ls = append(ls,
			layer{s, solid(base[i])},
			// The lit rim: the stone's top edge, inset so it never shares
			// the stone's outline (layers that share an anti-aliased edge
			// would darken it).
			layer{both{s, minus{w.grow(-inset), down}}, solid(rim[i])},
			layer{both{s, minus{w.grow(-inset), up}}, solid(shade[i])},
		)
	}
	return ls
}
