;; Echo test component (world wbox:echo/echo-box) written directly in the
;; component text format; `jco parse` turns it into a binary component.
;;
;; Canonical ABI layout used (CanonicalABI.md, wasm32):
;;   string            = {ptr i32 @0, len i32 @4}               size 8,  align 4
;;   list<string>      = {ptr i32 @0, len i32 @4} -> [string]   size 8,  align 4
;;   message           = {text string @0, tags list @8}          size 16, align 4
;;   result<message,string> at retptr: disc u8 @0 (0 ok, 1 err), payload @4,
;;                       size 20
;; echo takes the message flattened to 4 i32 and returns a pointer to the
;; result; roundtrip takes (ptr,len) and returns a pointer to a string.
;;
;; Memory: a bump allocator. Everything allocated during a call (host-lifted
;; arguments and our return area) is dead once the host has read the result,
;; so the post-return functions simply reset the bump pointer.
(component
  (import "wbox:echo/log@0.1.0" (instance $log
    (export "log" (func (param "msg" string)))
  ))

  ;; Memory and allocator live in their own core module: lowering `log` needs
  ;; the memory, and the main module needs the lowered `log` as an import, so
  ;; a single module would be a cycle.
  (core module $Mem
    (memory (export "memory") 1)
    ;; "empty text" at 16; the heap starts at 64.
    (data (i32.const 16) "empty text")
    (global $top (mut i32) (i32.const 64))

    ;; cabi_realloc(old, old_size, align, new_size) -> ptr
    (func $realloc (export "realloc") (param $old i32) (param $old_size i32)
                   (param $align i32) (param $new_size i32) (result i32)
      (local $p i32) (local $end i32)
      ;; p = align_up(top, align)
      (local.set $p (i32.and
        (i32.add (global.get $top) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
      (local.set $end (i32.add (local.get $p) (local.get $new_size)))
      ;; grow memory when the new end passes it (64 KiB pages)
      (if (i32.gt_u (local.get $end) (i32.shl (memory.size) (i32.const 16)))
        (then
          (if (i32.eq (i32.const -1) (memory.grow
                (i32.sub (i32.shr_u (i32.add (local.get $end) (i32.const 0xffff)) (i32.const 16))
                         (memory.size))))
            (then unreachable))))
      (global.set $top (local.get $end))
      ;; growing an old block: copy it (the old space is simply leaked)
      (if (local.get $old_size)
        (then (memory.copy (local.get $p) (local.get $old)
          (select (local.get $old_size) (local.get $new_size)
                  (i32.lt_u (local.get $old_size) (local.get $new_size))))))
      (local.get $p))

    (func (export "reset") (global.set $top (i32.const 64)))
  )
  (core instance $mem (instantiate $Mem))
  (alias core export $mem "memory" (core memory $memory))
  (alias core export $mem "realloc" (core func $realloc))

  (core func $log_lowered (canon lower (func $log "log") (memory $memory)))

  (core module $Main
    (import "mem" "memory" (memory 1))
    (import "mem" "realloc" (func $realloc (param i32 i32 i32 i32) (result i32)))
    (import "mem" "reset" (func $reset))
    (import "log" "log" (func $log (param i32 i32)))

    (func (export "echo") (param $text i32) (param $text_len i32)
                          (param $tags i32) (param $tags_len i32) (result i32)
      (local $ret i32) (local $i i32) (local $j i32) (local $t i64)
      (call $log (local.get $text) (local.get $text_len))
      (local.set $ret (call $realloc (i32.const 0) (i32.const 0) (i32.const 4) (i32.const 20)))
      (if (i32.eqz (local.get $text_len))
        (then ;; err("empty text")
          (i32.store8 (local.get $ret) (i32.const 1))
          (i32.store offset=4 (local.get $ret) (i32.const 16))
          (i32.store offset=8 (local.get $ret) (i32.const 10))
          (return (local.get $ret))))
      ;; reverse the 8-byte string entries of tags in place
      (local.set $i (local.get $tags))
      (local.set $j (i32.add (local.get $tags)
        (i32.shl (i32.sub (local.get $tags_len) (i32.const 1)) (i32.const 3))))
      (block $done
        (loop $swap
          (br_if $done (i32.ge_s (local.get $i) (local.get $j)))
          (local.set $t (i64.load align=4 (local.get $i)))
          (i64.store align=4 (local.get $i) (i64.load align=4 (local.get $j)))
          (i64.store align=4 (local.get $j) (local.get $t))
          (local.set $i (i32.add (local.get $i) (i32.const 8)))
          (local.set $j (i32.sub (local.get $j) (i32.const 8)))
          (br $swap)))
      ;; ok(message{text, tags})
      (i32.store8 (local.get $ret) (i32.const 0))
      (i32.store offset=4 (local.get $ret) (local.get $text))
      (i32.store offset=8 (local.get $ret) (local.get $text_len))
      (i32.store offset=12 (local.get $ret) (local.get $tags))
      (i32.store offset=16 (local.get $ret) (local.get $tags_len))
      (local.get $ret))

    (func (export "roundtrip") (param $s i32) (param $len i32) (result i32)
      (local $ret i32)
      (local.set $ret (call $realloc (i32.const 0) (i32.const 0) (i32.const 4) (i32.const 8)))
      (i32.store (local.get $ret) (local.get $s))
      (i32.store offset=4 (local.get $ret) (local.get $len))
      (local.get $ret))

    (func (export "post") (param i32) (call $reset))
  )
  (core instance $main (instantiate $Main
    (with "mem" (instance $mem))
    (with "log" (instance (export "log" (func $log_lowered))))
  ))

  (type $message (record (field "text" string) (field "tags" (list string))))
  (func $echo (param "m" $message) (result (result $message (error string)))
    (canon lift (core func $main "echo") (memory $memory) (realloc $realloc)
      (post-return (core func $main "post"))))
  (func $roundtrip (param "s" string) (result string)
    (canon lift (core func $main "roundtrip") (memory $memory) (realloc $realloc)
      (post-return (core func $main "post"))))

  ;; Exported interface functions may only mention types the instance itself
  ;; exports, so the interface is assembled in a nested component that imports
  ;; `message`, re-exports it and ascribes the functions' types over it.
  (component $Iface
    (type $message-def (record (field "text" string) (field "tags" (list string))))
    (import "message-in" (type $message-in (eq $message-def)))
    (import "echo-in" (func $echo-in (param "m" $message-in)
                                     (result (result $message-in (error string)))))
    (import "roundtrip-in" (func $roundtrip-in (param "s" string) (result string)))
    (export $message "message" (type $message-in))
    (type $echo-type (func (param "m" $message) (result (result $message (error string)))))
    (export "echo" (func $echo-in) (func (type $echo-type)))
    (export "roundtrip" (func $roundtrip-in))
  )
  (instance $echo-iface (instantiate $Iface
    (with "message-in" (type $message))
    (with "echo-in" (func $echo))
    (with "roundtrip-in" (func $roundtrip))
  ))
  (export "wbox:echo/echo@0.1.0" (instance $echo-iface))
)
