package artwork

import (
	"fmt"
	"image"
	"image/color"
	"strings"
)

// SVGName is the scalable application icon, installed as
// /usr/share/icons/hicolor/scalable/apps/cairn.svg.
const SVGName = "hicolor/scalable/apps/cairn.svg"

// appSVG writes the application icon as SVG from the same shapes that
// appLayers rasterises: on a canvas one sample per design unit, every
// coordinate comes out in design units (0–1024), which is the viewBox.
// Rounded rectangles map to <rect rx ry>; a shape cut out of another, or
// the overlap of two, to an SVG mask.
func appSVG() ([]byte, error) {
	c := canvas{size: design, k: 1, w: design}
	w := &svgWriter{}
	var body strings.Builder
	for _, l := range appLayers(c) {
		fill, err := w.paint(l.paint)
		if err != nil {
			return nil, err
		}
		el, err := w.shape(l.shape, fill)
		if err != nil {
			return nil, err
		}
		body.WriteString(el)
	}
	var out strings.Builder
	fmt.Fprintf(&out, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">`+"\n", design, design, design, design)
	out.WriteString("<defs>\n" + w.defs.String() + "</defs>\n")
	out.WriteString(body.String())
	out.WriteString("</svg>\n")
	return []byte(out.String()), nil
}

// svgWriter collects the <defs> (masks, gradients) the shapes refer to.
type svgWriter struct {
	defs strings.Builder
	n    int
}

func (w *svgWriter) id(prefix string) string {
	w.n++
	return fmt.Sprintf("%s%d", prefix, w.n)
}

func hexColour(c color.Color) string {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	return fmt.Sprintf("#%02x%02x%02x", n.R, n.G, n.B)
}

// paint returns the fill of a layer's paint: a colour, or a vertical
// gradient from its first row to its last (see gradient).
func (w *svgWriter) paint(p image.Image) (string, error) {
	switch p := p.(type) {
	case *image.Uniform:
		return hexColour(p.C), nil
	case *image.NRGBA:
		b := p.Bounds()
		id := w.id("g")
		fmt.Fprintf(&w.defs, `<linearGradient id="%s" gradientUnits="userSpaceOnUse" x1="0" y1="0" x2="0" y2="%d">`+
			`<stop offset="0" stop-color="%s"/><stop offset="1" stop-color="%s"/></linearGradient>`+"\n",
			id, design, hexColour(p.At(b.Min.X, b.Min.Y)), hexColour(p.At(b.Min.X, b.Max.Y-1)))
		return "url(#" + id + ")", nil
	}
	return "", fmt.Errorf("artwork: no SVG for paint %T", p)
}

// shape returns s filled with fill as SVG elements.
func (w *svgWriter) shape(s shape, fill string) (string, error) {
	switch s := s.(type) {
	case roundRect:
		return fmt.Sprintf(`<rect x="%d" y="%d" width="%d" height="%d" rx="%d" ry="%d" fill="%s"/>`+"\n",
			s.x0, s.y0, s.x1-s.x0, s.y1-s.y0, s.rx, s.ry, fill), nil
	case union:
		var b strings.Builder
		for _, part := range s {
			el, err := w.shape(part, fill)
			if err != nil {
				return "", err
			}
			b.WriteString(el)
		}
		return b.String(), nil
	case minus:
		// White shows, black hides: a with b hidden.
		cut, err := w.shape(s.b, "black")
		if err != nil {
			return "", err
		}
		return w.masked(s.a, fill, fmt.Sprintf(`<rect width="%d" height="%d" fill="white"/>`+"\n", design, design)+cut)
	case both:
		// Outside a mask's content is hidden: a where b is.
		keep, err := w.shape(s.b, "white")
		if err != nil {
			return "", err
		}
		return w.masked(s.a, fill, keep)
	}
	return "", fmt.Errorf("artwork: no SVG for shape %T", s)
}

// masked returns a filled with fill, seen through a mask of content.
func (w *svgWriter) masked(a shape, fill, content string) (string, error) {
	id := w.id("m")
	fmt.Fprintf(&w.defs, `<mask id="%s" maskUnits="userSpaceOnUse" x="0" y="0" width="%d" height="%d">`+"\n%s</mask>\n", id, design, design, content)
	el, err := w.shape(a, fill)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf(`<g mask="url(#%s)">`+"\n%s</g>\n", id, el), nil
}
