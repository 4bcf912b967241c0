package media

// Internals the external tests check directly.
var (
	Orient          = orient
	TIFFOrientation = tiffOrientation
	OggCRC          = oggCRC
	MsFrom          = msFrom
	Fit             = fit
)
