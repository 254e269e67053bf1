import Foundation
import TestSupport
import Testing

/// Listing, search, paging, rename/move, trash, and folders.
@Suite struct FilesAndFoldersTests {
    @Test func filePathCreatesFolders() async throws {
        try await withMediaServer { s in
            let a = try await s.uploadPlain(Data("1".utf8), name: "a.txt", extra: ["filePath": "/videos/2024"])
            let b = try await s.uploadPlain(Data("2".utf8), name: "b.txt", extra: ["filePath": "videos/2024/"])
            #expect(a["parentFolderId"] as? String == b["parentFolderId"] as? String)
            let top = try await s.get("/folders?parentFolderId=media-root")
            let videos = try #require((top.json?["folders"] as? [[String: Any]])?.first { $0["displayName"] as? String == "videos" })
            let inner = try await s.get("/folders?parentFolderId=\(videos["id"] as! String)")
            let year = try #require((inner.json?["folders"] as? [[String: Any]])?.first)
            #expect(year["displayName"] as? String == "2024")
            #expect(year["id"] as? String == a["parentFolderId"] as? String)
            let listed = try await s.get("/files?parentFolderId=\(year["id"] as! String)")
            #expect((listed.json?["files"] as? [[String: Any]])?.count == 2)
        }
    }

    @Test func cursorPagingVisitsEveryFileOnce() async throws {
        try await withMediaServer { s in
            var ids: Set<String> = []
            for i in 0..<5 { ids.insert(try await s.uploadPlain(Data("\(i)".utf8), name: "f\(i).txt")["id"] as! String) }
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let query = "/files?paging.limit=2&sort.fieldName=displayName&sort.order=ASC" + (cursor.map { "&paging.cursor=\($0)" } ?? "")
                let r = try await s.get(query)
                #expect(r.status == 200)
                let files = r.json?["files"] as? [[String: Any]] ?? []
                seen += files.compactMap { $0["id"] as? String }
                let next = r.json?["nextCursor"] as? [String: Any]
                cursor = (next?["hasNext"] as? Bool == true) ? (next?["cursors"] as? [String: Any])?["next"] as? String : nil
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(Set(seen) == ids)
            #expect(seen.count == 5)
            let names = try await s.get("/files?sort.fieldName=displayName&sort.order=ASC").json?["files"] as? [[String: Any]] ?? []
            #expect(names.compactMap { $0["displayName"] as? String } == ["f0.txt", "f1.txt", "f2.txt", "f3.txt", "f4.txt"])
            #expect(try await s.get("/files?paging.cursor=!!bad").status == 400)
        }
    }

    @Test func searchGetFilesUpdateAndTrash() async throws {
        try await withMediaServer { s in
            let cat = try await s.uploadPlain(Data("c".utf8), name: "cat.jpg", mimeType: "image/jpeg")
            let dog = try await s.uploadPlain(Data("d".utf8), name: "dog.png", mimeType: "image/png")
            let catID = cat["id"] as! String, dogID = dog["id"] as! String
            #expect(cat["mediaType"] as? String == "IMAGE")

            let found = try await s.call("POST", "/files/search", ["search": "cat"])
            #expect((found.json?["files"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [catID])
            let both = try await s.call("POST", "/files/get-files", ["fileIds": [catID, dogID]])
            #expect((both.json?["files"] as? [[String: Any]])?.count == 2)
            #expect(try await s.call("POST", "/files/get-files", ["fileIds": []]).status == 400)

            let folder = try await s.call("POST", "/folders", ["displayName": "pets"])
            let folderID = try #require((folder.json?["folder"] as? [String: Any])?["id"] as? String)
            let moved = try await s.call(
                "PATCH", "/files/update-file-descriptor",
                ["file": ["id": catID, "displayName": "kitty.jpg", "parentFolderId": folderID],
                 "fieldMask": ["paths": ["file.displayName", "file.parentFolderId"]]])
            #expect(moved.status == 200, "\(moved.text)")
            let movedFile = try #require(moved.json?["file"] as? [String: Any])
            #expect(movedFile["displayName"] as? String == "kitty.jpg")
            #expect(movedFile["parentFolderId"] as? String == folderID)
            let masked = try await s.call(
                "PATCH", "/files/update-file-descriptor",
                ["file": ["id": catID, "displayName": "ignored.jpg"], "fieldMask": ["paths": ["file.labels"]]])
            #expect((masked.json?["file"] as? [String: Any])?["displayName"] as? String == "kitty.jpg")
            let badMove = try await s.call(
                "PATCH", "/files/update-file-descriptor", ["file": ["id": catID, "parentFolderId": "0123456789abcdef0123456789abcdef"]])
            #expect(badMove.status == 404)

            for _ in 0..<2 {
                let deleted = try await s.call("POST", "/bulk/files/delete", ["fileIds": [dogID], "permanent": false])
                #expect(deleted.status == 200)
            }
            let trashed = try await s.descriptor(dogID)
            #expect(trashed["parentFolderId"] as? String == "trash-root")
            #expect(trashed["state"] as? String == "DELETED")
            let trash = try await s.get("/files?parentFolderId=trash-root")
            #expect((trash.json?["files"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [dogID])
            let trashSearch = try await s.call("POST", "/files/search", ["rootFolder": "TRASH_ROOT"])
            #expect((trashSearch.json?["files"] as? [[String: Any]])?.count == 1)
            let root = try await s.get("/files")
            #expect((root.json?["files"] as? [[String: Any]])?.contains { $0["id"] as? String == dogID } == false)
            #expect(try await HTTPTestClient.send("GET", URL(string: trashed["url"] as! String)!).status == 404)

            let gone = try await s.call("POST", "/bulk/files/delete", ["fileIds": [dogID], "permanent": true])
            #expect(gone.status == 200)
            #expect(try await s.get("/files/get-file-by-id?fileId=\(dogID)").status == 404)
        }
    }

    @Test func folderLifecycle() async throws {
        try await withMediaServer { s in
            let a = try await s.call("POST", "/folders", ["displayName": "A"])
            #expect(a.status == 200)
            let aID = try #require((a.json?["folder"] as? [String: Any])?["id"] as? String)
            let b = try await s.call("POST", "/folders", ["displayName": "B", "parentFolderId": aID])
            let bID = try #require((b.json?["folder"] as? [String: Any])?["id"] as? String)
            #expect((try await s.get("/folders/\(bID)").json?["folder"] as? [String: Any])?["parentFolderId"] as? String == aID)
            let renamed = try await s.call("PATCH", "/folders/\(bID)", ["folder": ["displayName": "B2"], "fieldMask": ["paths": ["folder.displayName"]]])
            #expect((renamed.json?["folder"] as? [String: Any])?["displayName"] as? String == "B2")
            let cycle = try await s.call("PATCH", "/folders/\(aID)", ["folder": ["parentFolderId": bID]])
            #expect(cycle.status == 400)
            #expect(try await s.call("POST", "/folders", ["displayName": "../x"]).status == 400)
            #expect(try await s.call("POST", "/folders", ["displayName": "x", "parentFolderId": "nope"]).status == 400)
            #expect(try await s.get("/folders/0123456789abcdef0123456789abcdef").status == 404)
            for _ in 0..<2 {
                #expect(try await s.call("POST", "/bulk/folders/delete", ["folderIds": [aID]]).status == 200)
            }
            let trashed = try await s.get("/folders/\(aID)")
            #expect((trashed.json?["folder"] as? [String: Any])?["state"] as? String == "DELETED")
            let root = try await s.get("/folders")
            #expect((root.json?["folders"] as? [[String: Any]])?.isEmpty == true)
        }
    }

    @Test func privateFilesNeedADownloadURL() async throws {
        try await withMediaServer { s in
            let file = try await s.uploadPlain(Data("secret".utf8), name: "s.txt", mimeType: "text/plain", extra: ["private": true])
            #expect(file["private"] as? Bool == true)
            let id = file["id"] as! String
            #expect(try await HTTPTestClient.send("GET", URL(string: file["url"] as! String)!).status == 403)
            let r = try await s.call("POST", "/files/\(id)/generate-download-url", ["expirationInMinutes": 5])
            let url = try #require(((r.json?["downloadUrls"] as? [[String: Any]])?.first)?["url"] as? String)
            #expect(try await HTTPTestClient.send("GET", URL(string: url)!).text == "secret")
        }
    }
}
