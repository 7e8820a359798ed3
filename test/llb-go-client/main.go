// Re-writes a dump-llb JSON (Dockwright's llb.json) with BuildKit v0.11.6's Go client: every op
// becomes the client call that means it (semantic fields only, never the encoding), then prints
// the digest of every op the client marshals, one per line.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/moby/buildkit/client/llb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

type J = map[string]interface{}

type entry struct {
	Op     J
	Digest string
}

func str(m J, k string) string { s, _ := m[k].(string); return s }
func num(m J, k string) int    { f, _ := m[k].(float64); return int(f) }
func flag(m J, k string) bool  { b, _ := m[k].(bool); return b }
func obj(m J, k string) J      { o, _ := m[k].(J); return o }
func list(m J, k string) []string {
	var out []string
	for _, v := range m[k].([]interface{}) {
		out = append(out, v.(string))
	}
	return out
}

var platform = ocispecs.Platform{OS: "linux", Architecture: "amd64"}

func main() {
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	var ops []entry
	if err := json.Unmarshal(data, &ops); err != nil {
		panic(err)
	}
	byDigest := map[string]J{}
	for _, e := range ops {
		byDigest[e.Digest] = e.Op
	}
	states := map[string]llb.State{}
	var state func(dgst string) llb.State
	state = func(dgst string) llb.State {
		if st, ok := states[dgst]; ok {
			return st
		}
		op := byDigest[dgst]
		var inputs []llb.State
		if in, ok := op["inputs"].([]interface{}); ok {
			for _, i := range in {
				inputs = append(inputs, state(i.(J)["digest"].(string)))
			}
		}
		inner := op["Op"].(J)
		var st llb.State
		switch {
		case inner["source"] != nil:
			src := inner["source"].(J)
			id := str(src, "identifier")
			attrs := obj(src, "attrs")
			switch {
			case strings.HasPrefix(id, "docker-image://"):
				if len(attrs) != 0 {
					panic("image attrs")
				}
				st = llb.Image(strings.TrimPrefix(id, "docker-image://"), llb.Platform(platform))
			case strings.HasPrefix(id, "local://"):
				var opts []llb.LocalOption
				for k, v := range attrs {
					s := v.(string)
					var patterns []string
					switch k {
					case "local.unique":
						opts = append(opts, llb.LocalUniqueID(s))
					case "local.sharedkeyhint":
						opts = append(opts, llb.SharedKeyHint(s))
					case "local.includepattern":
						must(json.Unmarshal([]byte(s), &patterns))
						opts = append(opts, llb.IncludePatterns(patterns))
					case "local.excludepatterns":
						must(json.Unmarshal([]byte(s), &patterns))
						opts = append(opts, llb.ExcludePatterns(patterns))
					default:
						panic("local attr " + k)
					}
				}
				st = llb.Local(strings.TrimPrefix(id, "local://"), opts...)
			default:
				panic("source " + id)
			}
		case inner["file"] != nil:
			actions := inner["file"].(J)["actions"].([]interface{})
			if len(actions) != 1 {
				panic("one action per file op")
			}
			a := actions[0].(J)
			action := a["Action"].(J)
			base := inputs[num(a, "input")]
			switch {
			case action["mkdir"] != nil:
				m := action["mkdir"].(J)
				opts := []llb.MkdirOption{llb.WithParents(flag(m, "makeParents"))}
				if o := chown(m); o != nil {
					opts = append(opts, *o)
				}
				checkTimestamp(m)
				st = base.File(llb.Mkdir(str(m, "path"), os.FileMode(num(m, "mode")), opts...))
			case action["copy"] != nil:
				c := action["copy"].(J)
				info := &llb.CopyInfo{
					FollowSymlinks:      flag(c, "followSymlink"),
					CopyDirContentsOnly: flag(c, "dirCopyContents"),
					AttemptUnpack:       flag(c, "attemptUnpackDockerCompatibility"),
					CreateDestPath:      flag(c, "createDestPath"),
					AllowWildcard:       flag(c, "allowWildcard"),
					AllowEmptyWildcard:  flag(c, "allowEmptyWildcard"),
					ChownOpt:            chown(c),
				}
				if c["include_patterns"] != nil {
					info.IncludePatterns = list(c, "include_patterns")
				}
				if c["exclude_patterns"] != nil {
					info.ExcludePatterns = list(c, "exclude_patterns")
				}
				if mode := num(c, "mode"); mode != -1 {
					m := os.FileMode(mode)
					info.Mode = &m
				}
				checkTimestamp(c)
				st = base.File(llb.Copy(inputs[num(a, "secondaryInput")], str(c, "src"), str(c, "dest"), info))
			default:
				panic("file action")
			}
		case inner["exec"] != nil:
			e := inner["exec"].(J)
			meta := e["meta"].(J)
			base := inputs[0]
			for _, kv := range list(meta, "env") {
				k, v, _ := strings.Cut(kv, "=")
				base = base.AddEnv(k, v)
			}
			base = base.Dir(str(meta, "cwd"))
			if u := str(meta, "user"); u != "" {
				base = base.User(u)
			}
			opts := []llb.RunOption{llb.Args(list(meta, "args"))}
			if p := obj(meta, "proxy_env"); p != nil {
				opts = append(opts, llb.WithProxy(llb.ProxyEnv{HTTPProxy: str(p, "http_proxy"), HTTPSProxy: str(p, "https_proxy"), FTPProxy: str(p, "ftp_proxy"), NoProxy: str(p, "no_proxy"), AllProxy: str(p, "all_proxy")}))
			}
			if num(e, "network") != 0 || num(e, "security") != 0 {
				panic("network/security")
			}
			for _, mv := range e["mounts"].([]interface{}) {
				m := mv.(J)
				switch num(m, "mountType") {
				case 0:
					if str(m, "dest") != "/" {
						panic("bind mount")
					}
				case 1:
					s := obj(m, "secretOpt")
					sopts := []llb.SecretOption{llb.SecretID(str(s, "ID")), llb.SecretFileOpt(num(s, "uid"), num(s, "gid"), num(s, "mode"))}
					if flag(s, "optional") {
						sopts = append(sopts, llb.SecretOptional)
					}
					opts = append(opts, llb.AddSecret(str(m, "dest"), sopts...))
				case 3:
					c := obj(m, "cacheOpt")
					opts = append(opts, llb.AddMount(str(m, "dest"), llb.Scratch(), llb.AsPersistentCacheDir(str(c, "ID"), llb.CacheMountSharingMode(num(c, "sharing")))))
				default:
					panic("mount type")
				}
			}
			st = base.Run(opts...).Root()
		default:
			panic("op")
		}
		states[dgst] = st
		return st
	}
	terminal := ops[len(ops)-1].Op
	final := state(terminal["inputs"].([]interface{})[0].(J)["digest"].(string))
	def, err := final.Marshal(context.Background(), llb.Platform(platform))
	must(err)
	for _, dt := range def.Def {
		fmt.Println(digest.FromBytes(dt))
	}
}

func chown(m J) *llb.ChownOpt {
	o := obj(m, "owner")
	if o == nil {
		return nil
	}
	user := func(u J) *llb.UserOpt {
		if u == nil {
			return nil
		}
		if len(u) == 0 {
			panic("empty user")
		}
		u = obj(u, "User")
		if n := obj(u, "byName"); n != nil {
			return &llb.UserOpt{Name: str(n, "name")}
		}
		return &llb.UserOpt{UID: num(u, "byID")}
	}
	return &llb.ChownOpt{User: user(obj(o, "user")), Group: user(obj(o, "group"))}
}

func checkTimestamp(m J) {
	if num(m, "timestamp") != -1 {
		panic("timestamp")
	}
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
