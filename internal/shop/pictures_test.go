package shop

import (
	"errors"
	"slices"
	"testing"
)

// TestArrangePictures: the kept pictures less the removed, the chosen main
// one first, the new ones after (no duplicates); an outdated form and a
// seventh picture are refused.
func TestArrangePictures(t *testing.T) {
	t.Parallel()
	pics := func(vs ...string) []Picture {
		var out []Picture
		for _, v := range vs {
			out = append(out, Picture{Version: v})
		}
		return out
	}
	news := func(vs ...string) []NewPicture {
		var out []NewPicture
		for _, v := range vs {
			out = append(out, NewPicture{Picture: Picture{Version: v}, Large: PictureCopy{Data: []byte(v)}})
		}
		return out
	}
	for _, c := range []struct {
		name    string
		current []Picture
		edit    PictureEdit
		want    []string
		err     string
	}{
		{"first pictures", nil, PictureEdit{Add: news("a", "b")}, []string{"a", "b"}, ""},
		{"main", pics("a", "b", "c"), PictureEdit{Seen: []string{"a", "b", "c"}, Main: "c"}, []string{"c", "a", "b"}, ""},
		{"remove main", pics("a", "b"), PictureEdit{Seen: []string{"a", "b"}, Main: "a", Remove: []string{"a"}}, []string{"b"}, ""},
		{"remove and add", pics("a", "b"), PictureEdit{Seen: []string{"a", "b"}, Remove: []string{"b"}, Add: news("c")}, []string{"a", "c"}, ""},
		{"duplicate", pics("a"), PictureEdit{Seen: []string{"a"}, Add: news("a", "b", "b")}, []string{"a", "b"}, ""},
		{"six", pics("a", "b", "c"), PictureEdit{Seen: []string{"a", "b", "c"}, Add: news("d", "e", "f")}, []string{"a", "b", "c", "d", "e", "f"}, ""},
		{"seven", pics("a", "b", "c"), PictureEdit{Seen: []string{"a", "b", "c"}, Add: news("d", "e", "f", "g")}, nil, EINVALID},
		{"outdated", pics("a", "b"), PictureEdit{Seen: []string{"a"}, Add: news("c")}, nil, ECONFLICT},
		{"reordered elsewhere", pics("b", "a"), PictureEdit{Seen: []string{"a", "b"}}, nil, ECONFLICT},
	} {
		got, err := ArrangePictures(c.current, c.edit)
		if c.err != "" {
			if ErrorCode(err) != c.err {
				t.Errorf("%s: %v, want %s", c.name, err, c.err)
			}
			continue
		}
		var vs []string
		for _, p := range got {
			vs = append(vs, p.Version)
		}
		if err != nil || !slices.Equal(vs, c.want) {
			t.Errorf("%s: %v %v, want %v", c.name, vs, err, c.want)
		}
	}
	if _, err := ArrangePictures(pics("a"), PictureEdit{}); !errors.Is(err, ErrPicturesChanged) {
		t.Errorf("a form that saw none of the pictures: %v", err)
	}
}
