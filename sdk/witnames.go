package sdk

import (
	"github.com/wbox-dev/wbox/sdk/bindgen"
	"go.bytecodealliance.org/wit"
)

// exportRenames maps the export names a language without ':' '/' '@' '#'
// in identifiers uses (bindgen.ExportShortName: IFACE_FUNC,
// cabi_post_IFACE_FUNC, FUNC for world functions, IFACE_dtor_RES) to the
// core names wit-component expects (IFACE#FUNC, cabi_post_IFACE#FUNC,
// IFACE#[dtor]RES).
func exportRenames(res *wit.Resolve, world string) (map[string]string, error) {
	w, err := bindgen.FindWorld(res, world)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	add := func(short, full string) {
		m[short] = full
		m["cabi_post_"+short] = "cabi_post_" + full
	}
	for _, item := range w.Exports.All() {
		switch it := item.(type) {
		case *wit.InterfaceRef:
			i := it.Interface
			if i.Name == nil {
				continue // inline interfaces are not supported by the builds
			}
			id := i.Package.Name
			full := id.Namespace + ":" + id.Package + "/" + *i.Name
			if id.Version != nil {
				full += "@" + id.Version.String()
			}
			for _, f := range i.Functions.All() {
				add(bindgen.ExportShortName(*i.Name, f.Name), full+"#"+f.Name)
			}
			for _, td := range i.TypeDefs.All() {
				if _, ok := td.Kind.(*wit.Resource); ok {
					m[bindgen.ExportShortName(*i.Name, "[dtor]"+*td.Name)] = full + "#[dtor]" + *td.Name
				}
			}
		case *wit.Function:
			add(bindgen.ExportShortName("", it.Name), it.Name)
		}
	}
	return m, nil
}
