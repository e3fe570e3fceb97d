/* GridAtlas compact map layers (format 1): GaGeo.decode(layer) gives back the GeoJSON FeatureCollection.
   The format is described in ui/mapcodec.py, whose `decode` does the same in Python. */
(function (root) {
  "use strict";
  var TYPES = ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"];

  function decode(enc) {
    if (enc.v !== 1) { throw new Error("GaGeo: unknown compact layer format " + enc.v); }
    var s = enc.s, ox = enc.o[0], oy = enc.o[1];
    var x = ox, y = oy;  // each arc's first point follows the last point of the arc before
    var arcs = enc.a.map(function (d) {
      var out = [];
      for (var i = 0; i < d.length; i += 2) { x += d[i]; y += d[i + 1]; out.push([x / s, y / s]); }
      return out;
    });
    function chain(refs) {
      var pts = [];
      for (var r = 0; r < refs.length; r++) {
        var ref = refs[r], arc = ref >= 0 ? arcs[ref] : arcs[~ref].slice().reverse();
        for (var i = pts.length ? 1 : 0; i < arc.length; i++) { pts.push(arc[i]); }
      }
      return pts;
    }
    function rings(list) { return list.map(chain); }
    function point(x, y) { return [(ox + x) / s, (oy + y) / s]; }
    var n = enc.f.length, kinds = Array.isArray(enc.t) ? enc.t : null;
    var cols = Object.keys(enc.p).map(function (key) {
      var c = enc.p[key];
      if (Array.isArray(c)) { return [key, function (i) { return c[i]; }]; }
      return [key, function (i) { var j = c.i[i]; return j < 0 ? null : c.d[j]; }];
    });
    var features = new Array(n);
    for (var i = 0; i < n; i++) {
      var code = kinds ? kinds[i] : enc.t, g = enc.f[i], coords;
      if (code === 0) { coords = point(g[0], g[1]); }
      else if (code === 1) { coords = []; for (var j = 0; j < g.length; j += 2) { coords.push(point(g[j], g[j + 1])); } }
      else if (code === 2) { coords = chain(g); }
      else if (code === 3) { coords = rings(g); }
      else if (code === 4) { coords = rings(g); }
      else { coords = g.map(rings); }
      var props = {};
      for (var c = 0; c < cols.length; c++) { props[cols[c][0]] = cols[c][1](i); }
      var f = {type: "Feature", properties: props, geometry: {type: TYPES[code], coordinates: coords}};
      if (enc.k) { f._k = enc.k[i]; }
      features[i] = f;
    }
    return {type: "FeatureCollection", features: features};
  }

  root.GaGeo = {decode: decode};
})(window);
