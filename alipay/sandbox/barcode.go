package sandbox

// Code 128 bar codes of payment codes, drawn as SVG rectangles by the
// wallet page. A payment code is all digits, so it is written in code set C
// (two digits a symbol): start C, the pairs, the checksum, stop.

import "errors"

// code128Widths holds each symbol's bar and space widths in modules (bar,
// space, bar, space, bar, space; 11 modules), values 0 to 105; the stop
// pattern is code128Stop.
var code128Widths = [106]string{
	"212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212", "221213",
	"221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221", "223211", "221132",
	"221231", "213212", "223112", "312131", "311222", "321122", "321221", "312212", "322112", "322211",
	"212123", "212321", "232121", "111323", "131123", "131321", "112313", "132113", "132311", "211313",
	"231113", "231311", "112133", "112331", "132131", "113123", "113321", "133121", "313121", "211331",
	"231131", "213113", "213311", "213131", "311123", "311321", "331121", "312113", "312311", "332111",
	"314111", "221411", "431111", "111224", "111422", "121124", "121421", "141122", "141221", "112214",
	"112412", "122114", "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111",
	"111242", "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
	"214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311", "113141",
	"114131", "311141", "411131", "211412", "211214", "211232",
}

const (
	code128StartC = 105
	code128Stop   = "2331112" // 13 modules, ending with a bar
	quietModules  = 10        // blank margin each side, as scanners need
)

// bar is one dark bar: its left edge and width, in modules.
type bar struct{ X, W int }

// barcode is a drawn code: its bars and total width in modules.
type barcode struct {
	Bars  []bar
	Width int
}

// code128C draws an even number of digits in code set C.
func code128C(digits string) (barcode, error) {
	symbols, err := code128CSymbols(digits)
	if err != nil {
		return barcode{}, err
	}
	var b barcode
	x := quietModules
	draw := func(widths string) {
		for i := range len(widths) {
			w := int(widths[i] - '0')
			if i%2 == 0 {
				b.Bars = append(b.Bars, bar{x, w})
			}
			x += w
		}
	}
	for _, v := range symbols {
		draw(code128Widths[v])
	}
	draw(code128Stop)
	b.Width = x + quietModules
	return b, nil
}

// code128CSymbols returns the symbol values: start C, one per digit pair,
// and the checksum (the start value plus each value times its position,
// modulo 103).
func code128CSymbols(digits string) ([]int, error) {
	if digits == "" || len(digits)%2 != 0 {
		return nil, errors.New("code 128 C needs an even number of digits")
	}
	symbols := []int{code128StartC}
	sum := code128StartC
	for i := 0; i < len(digits); i += 2 {
		if digits[i] < '0' || digits[i] > '9' || digits[i+1] < '0' || digits[i+1] > '9' {
			return nil, errors.New("code 128 C encodes digits only")
		}
		v := int(digits[i]-'0')*10 + int(digits[i+1]-'0')
		symbols = append(symbols, v)
		sum += len(symbols[1:]) * v
	}
	return append(symbols, sum%103), nil
}
