namespace Butterfly.Plotting;

/// <summary>An sRGB colour.</summary>
internal readonly record struct Rgb(byte R, byte G, byte B)
{
    internal static readonly Rgb White = new(255, 255, 255);
    internal static readonly Rgb Black = new(0, 0, 0);

    internal Rgb Blend(Rgb over, double alpha) => new(Mix(R, over.R, alpha), Mix(G, over.G, alpha), Mix(B, over.B, alpha));

    private static byte Mix(byte under, byte over, double alpha) => (byte)Math.Clamp(Math.Round(under + ((over - under) * alpha)), 0, 255);
}

/// <summary>
/// A small raster with the few primitives a line chart needs: rectangles, anti-aliased lines,
/// dashed vertical lines and text in the built-in font.
/// </summary>
internal sealed class Canvas
{
    private readonly byte[] _rgb;

    internal Canvas(int width, int height, Rgb background)
    {
        Width = width;
        Height = height;
        _rgb = new byte[width * height * 3];
        FillRectangle(0, 0, width, height, background);
    }

    internal int Width { get; }

    internal int Height { get; }

    internal void WritePng(Stream output) => PngEncoder.Write(output, Width, Height, _rgb);

    internal void FillRectangle(int x, int y, int width, int height, Rgb colour)
    {
        for (int row = Math.Max(0, y); row < Math.Min(Height, y + height); row++)
        {
            for (int column = Math.Max(0, x); column < Math.Min(Width, x + width); column++)
            {
                Plot(column, row, colour, 1);
            }
        }
    }

    internal void StrokeRectangle(int x, int y, int width, int height, Rgb colour)
    {
        FillRectangle(x, y, width, 1, colour);
        FillRectangle(x, y + height - 1, width, 1, colour);
        FillRectangle(x, y, 1, height, colour);
        FillRectangle(x + width - 1, y, 1, height, colour);
    }

    /// <summary>A vertical line of <paramref name="dash"/> pixels on, <paramref name="dash"/> off (0: solid).</summary>
    internal void VerticalLine(int x, int top, int bottom, Rgb colour, int dash = 0, int thickness = 1)
    {
        for (int y = top; y <= bottom; y++)
        {
            if (dash == 0 || ((y - top) / dash) % 2 == 0)
            {
                FillRectangle(x, y, thickness, 1, colour);
            }
        }
    }

    /// <summary>An anti-aliased line (Xiaolin Wu), drawn twice one pixel apart for a 2-pixel stroke.</summary>
    internal void Line(double x0, double y0, double x1, double y1, Rgb colour)
    {
        bool steep = Math.Abs(y1 - y0) > Math.Abs(x1 - x0);
        WuLine(x0, y0, x1, y1, colour);
        if (steep)
        {
            WuLine(x0 + 1, y0, x1 + 1, y1, colour);
        }
        else
        {
            WuLine(x0, y0 + 1, x1, y1 + 1, colour);
        }
    }

    /// <summary>Draws <paramref name="text"/> with its top-left corner at (x, y); returns the width used.</summary>
    internal int Text(int x, int y, string text, Rgb colour)
    {
        int pen = x;
        foreach (char c in text)
        {
            int index = c - GlyphData.First;
            if (index >= 0 && index < GlyphData.Glyphs.Length)
            {
                string glyph = GlyphData.Glyphs[index];
                for (int row = 0; row < GlyphData.Height; row++)
                {
                    for (int column = 0; column < GlyphData.Width; column++)
                    {
                        int level = HexDigit(glyph[(row * GlyphData.Width) + column]);
                        if (level > 0)
                        {
                            Plot(pen + column, y + row, colour, level / 15.0);
                        }
                    }
                }
            }

            pen += GlyphData.Width;
        }

        return pen - x;
    }

    internal static int TextWidth(string text) => text.Length * GlyphData.Width;

    internal static int TextHeight => GlyphData.Height;

    private static int HexDigit(char c) => c <= '9' ? c - '0' : c - 'a' + 10;

    private void WuLine(double x0, double y0, double x1, double y1, Rgb colour)
    {
        bool steep = Math.Abs(y1 - y0) > Math.Abs(x1 - x0);
        if (steep)
        {
            (x0, y0) = (y0, x0);
            (x1, y1) = (y1, x1);
        }

        if (x0 > x1)
        {
            (x0, x1) = (x1, x0);
            (y0, y1) = (y1, y0);
        }

        double dx = x1 - x0;
        double gradient = dx == 0 ? 1 : (y1 - y0) / dx;
        double y = y0;
        for (int x = (int)Math.Round(x0); x <= (int)Math.Round(x1); x++)
        {
            int floor = (int)Math.Floor(y);
            double fraction = y - floor;
            if (steep)
            {
                Plot(floor, x, colour, 1 - fraction);
                Plot(floor + 1, x, colour, fraction);
            }
            else
            {
                Plot(x, floor, colour, 1 - fraction);
                Plot(x, floor + 1, colour, fraction);
            }

            y += gradient;
        }
    }

    private void Plot(int x, int y, Rgb colour, double alpha)
    {
        if (x < 0 || y < 0 || x >= Width || y >= Height || alpha <= 0)
        {
            return;
        }

        int i = ((y * Width) + x) * 3;
        Rgb blended = new Rgb(_rgb[i], _rgb[i + 1], _rgb[i + 2]).Blend(colour, Math.Min(1, alpha));
        _rgb[i] = blended.R;
        _rgb[i + 1] = blended.G;
        _rgb[i + 2] = blended.B;
    }
}
